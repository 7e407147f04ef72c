//! Administration > Sessions: every live session on this node, refreshed
//! every two seconds, with Monitor and Terminate; and the sessions that
//! are over, newest first, each with its recording's player.

use domain::{LiveSessionOverview, PastSessionOverview, format_duration, format_size};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::error::{AppError, ErrorPage, form_error};

/// How often the browser reloads the live sessions.
#[cfg(feature = "hydrate")]
const REFRESH: std::time::Duration = std::time::Duration::from_secs(2);

#[server(endpoint = "admin/list_live_sessions")]
pub async fn list_live_sessions() -> Result<Vec<LiveSessionOverview>, AppError> {
    let (_, admin) = crate::server::current_admin().await?;
    Ok(crate::server::services()?.live_sessions(admin).await?)
}

#[server(endpoint = "admin/list_past_sessions")]
pub async fn list_past_sessions() -> Result<Vec<PastSessionOverview>, AppError> {
    let (_, admin) = crate::server::current_admin().await?;
    Ok(crate::server::services()?.all_past_sessions(admin).await?)
}

/// Terminate: ends the session at once for everyone in it.
#[server(endpoint = "admin/terminate_session")]
pub async fn terminate_session(id: i64) -> Result<(), AppError> {
    let (actor, admin) = crate::server::current_admin().await?;
    Ok(crate::server::services()?
        .terminate_session(admin, &actor, domain::OmSessionId(id))
        .await?)
}

#[component]
pub fn SessionsPage() -> impl IntoView {
    let terminate = ServerAction::<TerminateSession>::new();
    // Bumped by a timer in the browser; both lists follow it, so a session
    // that ends moves from one table to the other within one refresh.
    let tick = RwSignal::new(0_u64);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Ok(handle) =
            set_interval_with_handle(move || tick.update(|tick| *tick += 1), REFRESH)
        {
            on_cleanup(move || handle.clear());
        }
    });
    let source = move || (tick.get(), terminate.version().get());
    let live = Resource::new(source, |_| list_live_sessions());
    let past = Resource::new(source, |_| list_past_sessions());
    view! {
        <Title text="Sessions · Tandem"/>
        <h1>"Sessions"</h1>
        {form_error(terminate.value())}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match (live.await, past.await) {
                    (Err(error), _) | (_, Err(error)) => view! { <ErrorPage error/> }.into_any(),
                    (Ok(live), Ok(past)) => view! {
                        <LiveSessions sessions=live terminate/>
                        <PastSessions sessions=past/>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn LiveSessions(
    sessions: Vec<LiveSessionOverview>,
    terminate: ServerAction<TerminateSession>,
) -> impl IntoView {
    let empty = sessions.is_empty();
    let rows = sessions
        .into_iter()
        .map(|session| {
            let id = session.id.0;
            let share = if session.shared {
                "Shared"
            } else {
                "Not shared"
            };
            let monitors = session.monitors.join(", ");
            view! {
                <tr>
                    <td>{session.creator}</td>
                    <td>{session.host}</td>
                    <td>{session.account}</td>
                    <td>{session.started_at}</td>
                    <td>{session.participants.join(", ")}</td>
                    <td>{session.controller}</td>
                    <td>{share}</td>
                    <td>{monitors}</td>
                    <td class="actions">
                        <a href=format!("/sessions/{id}")>"Monitor"</a>
                        <ActionForm action=terminate>
                            <input type="hidden" name="id" value=id/>
                            <button type="submit" class="danger">"Terminate"</button>
                        </ActionForm>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section aria-label="Live sessions">
            <h2>"Live sessions"</h2>
            <table>
                <thead><tr>
                    <th>"Creator"</th><th>"Host"</th><th>"Account"</th><th>"Started"</th>
                    <th>"Participants"</th><th>"Controller"</th><th>"Share"</th>
                    <th>"Monitoring"</th><th>"Actions"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
            {empty.then_some(view! { <p class="empty">"No session is running."</p> })}
        </section>
    }
}

#[component]
fn PastSessions(sessions: Vec<PastSessionOverview>) -> impl IntoView {
    let empty = sessions.is_empty();
    let rows = sessions
        .into_iter()
        .map(|session| {
            let id = session.id.0;
            view! {
                <tr>
                    <td>{session.creator}</td>
                    <td>{session.host}</td>
                    <td>{session.account}</td>
                    <td>{session.started_at}</td>
                    <td>{session.ended_at}</td>
                    <td>{session.end_code}</td>
                    <td>{session.duration_ms.map(format_duration)}</td>
                    <td>{session.recording_size.map(format_size)}</td>
                    <td><a href=format!("/sessions/{id}/play")>"Play"</a></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section aria-label="Past sessions">
            <h2>"Past sessions"</h2>
            <table>
                <thead><tr>
                    <th>"Creator"</th><th>"Host"</th><th>"Account"</th><th>"Started"</th>
                    <th>"Ended"</th><th>"End reason"</th><th>"Duration"</th>
                    <th>"Recording"</th><th>"Recording player"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
            {empty.then_some(view! { <p class="empty">"No session has ended yet."</p> })}
        </section>
    }
}
