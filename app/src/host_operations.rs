//! Operation > Host Operations: the host accounts granted to me, each with
//! its Login button (a session now) and Schedule (a session later).

use domain::GrantedAccount;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::auth::reload_at;
use crate::error::{AppError, ErrorPage, form_error};
use crate::invitation::JoinWithCode;
use crate::my_sessions::ScheduleSession;
use crate::session_page::StartSession;

/// Window lengths offered when scheduling, in minutes.
const LENGTHS: [(i64, &str); 5] = [
    (30, "30 minutes"),
    (60, "1 hour"),
    (120, "2 hours"),
    (240, "4 hours"),
    (480, "8 hours"),
];

#[server(endpoint = "granted_accounts")]
pub async fn granted_accounts() -> Result<Vec<GrantedAccount>, AppError> {
    let actor = crate::server::current_actor().await?;
    Ok(crate::server::services()?.granted_accounts(&actor).await?)
}

#[component]
pub fn HostOperationsPage() -> impl IntoView {
    let accounts = Resource::new(|| (), |_| granted_accounts());
    let start = ServerAction::<StartSession>::new();
    let schedule = ServerAction::<ScheduleSession>::new();
    // The account whose Schedule form is open, with its label.
    let scheduling = RwSignal::new(None::<(i64, String)>);
    Effect::new(move |_| {
        if let Some(Ok(_)) = schedule.value().get() {
            reload_at("/my-sessions");
        }
    });
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
                                {accounts.into_iter().map(|account| {
                                    let label = format!("{}@{}", account.login, account.host_name);
                                    let id = account.host_account_id.0;
                                    view! {
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
                                            <button type="button" class="secondary" on:click=move |_| scheduling.set(Some((id, label.clone())))>"Schedule"</button>
                                        </td>
                                    </tr>
                                }}).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Suspense>
        {move || scheduling.get().map(|(id, label)| view! {
            <section class="schedule" role="dialog" aria-label="Schedule a session">
                <h2>{format!("Schedule a session on {label}")}</h2>
                <ActionForm action=schedule>
                    <input type="hidden" name="host_account_id" value=id/>
                    <label>"Title" <input name="title" value=label.clone() required/></label>
                    <label>"Start (UTC)" <input name="start" type="datetime-local" step="1" required/></label>
                    <label>"Duration"
                        <select name="minutes">
                            {LENGTHS.map(|(minutes, text)| view! {
                                <option value=minutes selected=minutes == 60>{text}</option>
                            })}
                        </select>
                    </label>
                    <button type="submit">"Schedule"</button>
                    <button type="button" class="secondary" on:click=move |_| scheduling.set(None)>"Close"</button>
                </ActionForm>
                {form_error(schedule.value())}
            </section>
        })}
    }
}
