//! Operation > Host Operations: the host accounts granted to me, each with
//! its Login button.

use domain::GrantedAccount;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::error::{AppError, ErrorPage, form_error};
use crate::invitation::JoinWithCode;
use crate::session_page::StartSession;

#[server(endpoint = "granted_accounts")]
pub async fn granted_accounts() -> Result<Vec<GrantedAccount>, AppError> {
    let actor = crate::server::current_actor().await?;
    Ok(crate::server::services()?.granted_accounts(&actor).await?)
}

#[component]
pub fn HostOperationsPage() -> impl IntoView {
    let accounts = Resource::new(|| (), |_| granted_accounts());
    let start = ServerAction::<StartSession>::new();
    view! {
        <Title text="Host Operations · Tandem"/>
        <h1>"Host Operations"</h1>
        <JoinWithCode/>
        {form_error(start.value())}
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
                                            <ActionForm action=start>
                                                <input type="hidden" name="host_account_id" value=account.host_account_id.0/>
                                                <button type="submit">"Login"</button>
                                            </ActionForm>
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
