//! Administration > Grants: which user may use which host account.

use domain::{GrantRecord, HostAccountRecord, UserRecord};
use leptos::prelude::*;
use leptos_meta::Title;

use super::host_accounts::list_host_accounts;
use super::users::list_users;
use crate::error::{AppError, ErrorPage, form_error};

#[server(endpoint = "admin/list_grants")]
pub async fn list_grants() -> Result<Vec<GrantRecord>, AppError> {
    let (_, admin) = crate::server::current_admin().await?;
    Ok(crate::server::services()?.list_grants(admin).await?)
}

#[server(endpoint = "admin/create_grant")]
pub async fn create_grant(user_id: i64, host_account_id: i64) -> Result<(), AppError> {
    let (_, admin) = crate::server::current_admin().await?;
    crate::server::services()?
        .create_grant(
            admin,
            domain::UserId(user_id),
            domain::HostAccountId(host_account_id),
        )
        .await?;
    Ok(())
}

#[server(endpoint = "admin/revoke_grant")]
pub async fn revoke_grant(id: i64) -> Result<(), AppError> {
    let (_, admin) = crate::server::current_admin().await?;
    crate::server::services()?
        .revoke_grant(admin, domain::GrantId(id))
        .await?;
    Ok(())
}

type GrantsData = (Vec<GrantRecord>, Vec<UserRecord>, Vec<HostAccountRecord>);

#[component]
pub fn GrantsPage() -> impl IntoView {
    let create = ServerAction::<CreateGrant>::new();
    let revoke = ServerAction::<RevokeGrant>::new();
    let data = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| async {
            Ok::<GrantsData, AppError>((
                list_grants().await?,
                list_users().await?,
                list_host_accounts().await?,
            ))
        },
    );
    view! {
        <Title text="Grants · Tandem"/>
        <h1>"Grants"</h1>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <ErrorPage error/> }.into_any(),
                    Ok((grants, users, accounts)) => view! {
                        <section class="create" aria-label="New grant">
                            <h2>"New grant"</h2>
                            <ActionForm action=create>
                                <label>"User"
                                    <select name="user_id" required>
                                        {users.into_iter().map(|user| view! {
                                            <option value=user.id.0>{user.username}</option>
                                        }).collect_view()}
                                    </select>
                                </label>
                                <label>"Host account"
                                    <select name="host_account_id" required>
                                        {accounts.into_iter().map(|account| view! {
                                            <option value=account.id.0>
                                                {format!("{}@{} ({})", account.login, account.host_name, account.project_name)}
                                            </option>
                                        }).collect_view()}
                                    </select>
                                </label>
                                <button type="submit">"Grant"</button>
                            </ActionForm>
                            {form_error(create.value())}
                        </section>
                        {form_error(revoke.value())}
                        <table>
                            <thead><tr><th>"User"</th><th>"Host account"</th><th></th></tr></thead>
                            <tbody>
                                {grants.into_iter().map(|grant| view! {
                                    <tr>
                                        <td>{grant.username}</td>
                                        <td>{grant.host_account_label}</td>
                                        <td>
                                            <ActionForm action=revoke>
                                                <input type="hidden" name="id" value=grant.id.0/>
                                                <button type="submit">"Revoke"</button>
                                            </ActionForm>
                                        </td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
