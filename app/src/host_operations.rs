//! Operation > Host Operations: the host accounts granted to me, each with
//! its Login button.

use domain::GrantedAccount;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::error::{AppError, ErrorPage};

#[server(endpoint = "granted_accounts")]
pub async fn granted_accounts() -> Result<Vec<GrantedAccount>, AppError> {
    let actor = crate::server::current_actor().await?;
    Ok(crate::server::services()?.granted_accounts(&actor).await?)
}

#[server(endpoint = "login_target")]
pub async fn login_target(host_account_id: i64) -> Result<GrantedAccount, AppError> {
    let actor = crate::server::current_actor().await?;
    Ok(crate::server::services()?
        .granted_account(&actor, domain::HostAccountId(host_account_id))
        .await?)
}

#[component]
pub fn HostOperationsPage() -> impl IntoView {
    let accounts = Resource::new(|| (), |_| granted_accounts());
    view! {
        <Title text="Host Operations · Tandem"/>
        <h1>"Host Operations"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match accounts.await {
                    Err(error) => view! { <ErrorPage error/> }.into_any(),
                    Ok(accounts) if accounts.is_empty() => view! {
                        <p class="empty">"No host accounts are granted to you yet. Ask an administrator for a grant."</p>
                    }.into_any(),
                    Ok(accounts) => view! {
                        <table>
                            <thead><tr><th>"Project"</th><th>"Host"</th><th>"Address"</th><th>"Account"</th><th></th></tr></thead>
                            <tbody>
                                {accounts.into_iter().map(|account| view! {
                                    <tr>
                                        <td>{account.project_name}</td>
                                        <td>{account.host_name}</td>
                                        <td>{format!("{}:{}", account.address, account.port)}</td>
                                        <td>{account.login}</td>
                                        <td>
                                            <form method="get" action=format!("/operation/hosts/{}/login", account.host_account_id)>
                                                <button type="submit">"Login"</button>
                                            </form>
                                        </td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Where Login leads. The permission check is real; the terminal itself
/// arrives with the web terminal.
#[component]
pub fn TerminalPage() -> impl IntoView {
    let params = use_params_map();
    let target = Resource::new(
        move || params.with(|params| params.get("account_id")),
        |id| async move {
            match id.and_then(|id| id.parse::<i64>().ok()) {
                Some(id) => login_target(id).await,
                None => Err(AppError::NotFound("host account".to_owned())),
            }
        },
    );
    view! {
        <Title text="Session · Tandem"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match target.await {
                    Err(error) => view! { <ErrorPage error/> }.into_any(),
                    Ok(account) => view! {
                        <h1>{format!("{}@{}", account.login, account.host_name)}</h1>
                        <p role="status">"The web terminal is not available yet."</p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
