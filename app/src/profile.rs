//! The profile page: my email address for notifications, my API tokens for
//! the REST API, and the ids the API needs for the desktops I may use.

use domain::{ApiTokenRecord, ApiTokenStatus, GrantedAccount, NewApiToken};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::error::{AppError, ErrorPage, form_error};
use crate::host_operations::granted_accounts;

#[server(endpoint = "own_email")]
pub async fn own_email() -> Result<Option<String>, AppError> {
    let actor = crate::server::current_actor().await?;
    Ok(crate::server::services()?.own_email(&actor).await?)
}

/// Where notifications are mailed; empty removes the address.
#[server(endpoint = "set_own_email")]
pub async fn set_own_email(email: String) -> Result<(), AppError> {
    let actor = crate::server::current_actor().await?;
    Ok(crate::server::services()?
        .set_own_email(&actor, &email)
        .await?)
}

#[server(endpoint = "api_tokens")]
pub async fn api_tokens() -> Result<Vec<ApiTokenRecord>, AppError> {
    let actor = crate::server::current_actor().await?;
    Ok(crate::server::services()?.api_tokens(&actor).await?)
}

#[server(endpoint = "create_api_token")]
pub async fn create_api_token(
    name: String,
    expires_in_days: String,
) -> Result<NewApiToken, AppError> {
    let actor = crate::server::current_actor().await?;
    let days = domain::api_token_days(&expires_in_days).map_err(services::ServiceError::from)?;
    Ok(crate::server::services()?
        .create_api_token(&actor, &name, days)
        .await?)
}

#[server(endpoint = "revoke_api_token")]
pub async fn revoke_api_token(id: i64) -> Result<(), AppError> {
    let actor = crate::server::current_actor().await?;
    Ok(crate::server::services()?
        .revoke_api_token(&actor, domain::ApiTokenId(id))
        .await?)
}

#[component]
pub fn ProfilePage() -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| api_tokens(),
    );
    let desktops = Resource::new(|| (), |_| granted_accounts());
    let save_email = ServerAction::<SetOwnEmail>::new();
    let email = Resource::new(move || save_email.version().get(), |_| own_email());
    view! {
        <Title text="Profile · Tandem"/>
        <h1>"Profile"</h1>
        <section aria-label="Email">
            <h2>"Email"</h2>
            <p>"Where Tandem mails you when someone shares a session with you."</p>
            <Transition>
                {move || Suspend::new(async move {
                    let current = email.await.ok().flatten().unwrap_or_default();
                    view! {
                        <ActionForm action=save_email>
                            <label>"Email address" <input name="email" type="email" value=current/></label>
                            <button type="submit">"Save email"</button>
                        </ActionForm>
                    }
                })}
            </Transition>
            {form_error(save_email.value())}
        </section>
        <section aria-label="API tokens">
            <h2>"API tokens"</h2>
            <p>"A token lets a program call Tandem's REST API as you, with exactly your permissions. Send it in the " <code>"X-Auth-Token"</code> " header; the API is described at " <a href="/v2/openapi.json">"/v2/openapi.json"</a> "."</p>
            <ActionForm action=create>
                <label>"Name" <input name="name" required maxlength="64"/></label>
                <label>"Expires in days (optional)" <input name="expires_in_days" type="number" min="1" max=domain::API_TOKEN_MAX_DAYS/></label>
                <button type="submit">"Create token"</button>
            </ActionForm>
            {form_error(create.value())}
            {move || create.value().get().and_then(Result::ok).map(|created| view! { <NewTokenNotice created/> })}
            {form_error(revoke.value())}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Err(error) => view! { <ErrorPage error/> }.into_any(),
                        Ok(tokens) if tokens.is_empty() => view! { <p class="empty">"You have no API tokens."</p> }.into_any(),
                        Ok(tokens) => view! { <TokenTable tokens revoke/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <section aria-label="Desktops">
            <h2>"Desktops"</h2>
            <p>"The ids the REST API takes for the hosts you may use: " <code>"/v2/{project_id}/desktops/{desktop_id}/remote-assistance"</code> "."</p>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match desktops.await {
                        Err(error) => view! { <ErrorPage error/> }.into_any(),
                        Ok(accounts) => view! { <DesktopTable accounts/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The secret of the token just created: shown this once.
#[component]
fn NewTokenNotice(created: NewApiToken) -> impl IntoView {
    view! {
        <div class="notice" role="status" aria-label="New API token">
            <p>"Token " <strong>{created.token.name}</strong> " created. Copy its secret now: it is not shown again."</p>
            <label>"Token secret" <input readonly value=created.secret class="secret"/></label>
        </div>
    }
}

#[component]
fn TokenTable(tokens: Vec<ApiTokenRecord>, revoke: ServerAction<RevokeApiToken>) -> impl IntoView {
    view! {
        <table>
            <thead><tr><th>"Name"</th><th>"Token"</th><th>"Created"</th><th>"Expires"</th><th>"Last used"</th><th>"Status"</th><th></th></tr></thead>
            <tbody>
                {tokens.into_iter().map(|token| view! {
                    <tr>
                        <td>{token.name.clone()}</td>
                        <td><code>{format!("{}…", token.prefix)}</code></td>
                        <td>{token.created_at}</td>
                        <td>{token.expires_at.unwrap_or_else(|| "Never".to_owned())}</td>
                        <td>{token.last_used_at.unwrap_or_else(|| "Never".to_owned())}</td>
                        <td>{token.status.label()}</td>
                        <td>
                            {(token.status == ApiTokenStatus::Active).then(|| view! {
                                <ActionForm action=revoke>
                                    <input type="hidden" name="id" value=token.id.0/>
                                    <button type="submit" aria-label=format!("Revoke {}", token.name)>"Revoke"</button>
                                </ActionForm>
                            })}
                        </td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// One row per host, whichever of its accounts are granted.
#[component]
fn DesktopTable(mut accounts: Vec<GrantedAccount>) -> impl IntoView {
    accounts.dedup_by_key(|account| account.host_id);
    view! {
        <table>
            <thead><tr><th>"Project"</th><th>"Project ID"</th><th>"Host"</th><th>"Desktop ID"</th></tr></thead>
            <tbody>
                {accounts.into_iter().map(|account| view! {
                    <tr>
                        <td>{account.project_name}</td>
                        <td>{account.project_id.0}</td>
                        <td>{account.host_name}</td>
                        <td>{account.host_id.0}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
