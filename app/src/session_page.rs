//! The session page: the terminal and its controls. Login on Host
//! Operations opens a session and lands here.

use domain::OmSessionRecord;
use leptos::html::Div;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use protocol::Panel;

use crate::cooperation::{ParticipantsPanel, ShareDialog};
use crate::error::{AppError, ErrorPage, form_error};

#[server(endpoint = "start_session")]
pub async fn start_session(host_account_id: i64) -> Result<(), AppError> {
    let actor = crate::server::current_actor().await?;
    let id = crate::server::services()?
        .start_session(&actor, domain::HostAccountId(host_account_id))
        .await?;
    leptos_axum::redirect(&format!("/sessions/{id}"));
    Ok(())
}

#[server(endpoint = "session")]
pub async fn session(id: i64) -> Result<OmSessionRecord, AppError> {
    let actor = crate::server::current_actor().await?;
    Ok(crate::server::services()?
        .session_record(&actor, domain::OmSessionId(id))
        .await?)
}

/// Exit session: the creator's ends the session for everyone; an invited
/// user's takes only them out.
#[server(endpoint = "exit_session")]
pub async fn exit_session(id: i64) -> Result<(), AppError> {
    let actor = crate::server::current_actor().await?;
    crate::server::services()?
        .exit_session(&actor, domain::OmSessionId(id))
        .await?;
    Ok(())
}

/// What the terminal's connection is doing, shown above it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TerminalStatus {
    Connecting,
    Live,
    /// The connection dropped; the page is opening a new one, which goes on
    /// from what the terminal already shows.
    Reconnecting,
    Ended(String),
    /// This viewer is out (they exited or the share was cancelled); the
    /// session goes on without them. Enter again is offered only when the
    /// invitation can still let them in.
    Left {
        message: String,
        may_enter_again: bool,
    },
    Lost(String),
}

impl TerminalStatus {
    pub fn is_open(&self) -> bool {
        matches!(
            self,
            TerminalStatus::Connecting | TerminalStatus::Live | TerminalStatus::Reconnecting
        )
    }
}

/// What the terminal socket updates on the page.
#[derive(Clone, Copy)]
pub struct LiveView {
    pub status: RwSignal<TerminalStatus>,
    pub panel: RwSignal<Option<Panel>>,
    pub notice: RwSignal<Option<String>>,
}

#[component]
pub fn SessionPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|params| params.get("id").and_then(|id| id.parse::<i64>().ok()));
    let record = Resource::new(id, |id| async move {
        match id {
            Some(id) => session(id).await,
            None => Err(AppError::NotFound("session".to_owned())),
        }
    });
    view! {
        <Title text="Session · Tandem"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match record.await {
                    Err(error) => view! { <ErrorPage error/> }.into_any(),
                    Ok(record) => view! { <SessionView record/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SessionView(record: OmSessionRecord) -> impl IntoView {
    let live = LiveView {
        status: RwSignal::new(match &record.ended {
            Some((_, message)) => TerminalStatus::Ended(message.clone()),
            None => TerminalStatus::Connecting,
        }),
        panel: RwSignal::new(None),
        notice: RwSignal::new(None),
    };
    let status = live.status;
    let container = NodeRef::<Div>::new();
    let exit = ServerAction::<ExitSession>::new();
    let session_id = record.id.0;
    let viewer = record.viewer.0;
    #[cfg(feature = "hydrate")]
    let running = record.ended.is_none();
    #[cfg(feature = "hydrate")]
    Effect::new(move |started: Option<bool>| {
        if started == Some(true) || !running {
            return true;
        }
        match container.get() {
            Some(element) => {
                crate::terminal::start(session_id, element.into(), live);
                true
            }
            None => false,
        }
    });
    let creator = record.viewer_is_creator;
    // An admin watching: read-only, so none of the session's buttons.
    let monitoring = record.viewer_is_monitor;
    Effect::new(move |_| {
        if let Some(Ok(())) = exit.value().get() {
            status.set(match creator {
                true => TerminalStatus::Ended("You closed the session.".to_owned()),
                false => TerminalStatus::Left {
                    message: "You left the session.".to_owned(),
                    may_enter_again: true,
                },
            });
        }
    });
    let invitation = record.invitation.clone();
    let account = record.account;
    view! {
        <section class="session">
            <header class="session-header">
                <h1>{record.title.clone()}</h1>
                <span class="muted">
                    {format!("{}@{} · {} · {}:{} · started {} by {}", account.login, account.host_name, account.project_name, account.address, account.port, record.started_at, record.creator)}
                    {record.ends_at.clone().map(|end| format!(" · ends {end}"))}
                </span>
                <div class="session-actions">
                    {creator.then(|| view! {
                        <Show when=move || status.get().is_open()>
                            <ShareDialog session_id panel=live.panel/>
                        </Show>
                    })}
                    {match monitoring {
                        // A full page load, so that the socket closes and
                        // everyone's panel drops the monitor.
                        true => view! {
                            <a href="/admin/sessions" rel="external">"Stop monitoring"</a>
                        }
                        .into_any(),
                        // Once out, there is nothing left to exit.
                        false => view! {
                            <Show when=move || status.get().is_open()>
                                <ActionForm action=exit>
                                    <input type="hidden" name="id" value=session_id/>
                                    <button type="submit">"Exit session"</button>
                                </ActionForm>
                            </Show>
                        }
                        .into_any(),
                    }}
                </div>
            </header>
            {form_error(exit.value())}
            {move || live.panel.with(|panel| ending_warning(panel.as_ref(), creator)).filter(|_| status.get().is_open()).map(|warning| view! {
                <p class="warning" role="alert" aria-label="Session ending">{warning}</p>
            })}
            <p class="terminal-status" role="status" aria-label="Session status">
                {move || match status.get() {
                    TerminalStatus::Connecting => "Connecting…".to_owned(),
                    TerminalStatus::Reconnecting => "Connection lost; reconnecting…".to_owned(),
                    TerminalStatus::Live => String::new(),
                    TerminalStatus::Ended(message) | TerminalStatus::Left { message, .. } | TerminalStatus::Lost(message) => message,
                }}
            </p>
            {move || {
                let may_enter_again = matches!(status.get(), TerminalStatus::Left { may_enter_again: true, .. });
                invitation.clone().filter(|_| may_enter_again).map(|code| view! {
                    <a href=format!("/invite/{code}")>"Enter again"</a>
                })
            }}
            <div class="session-body">
                <div class="terminal" node_ref=container data-session=session_id></div>
                <Show when=move || status.get().is_open()>
                    <ParticipantsPanel session_id viewer monitoring panel=live.panel notice=live.notice/>
                </Show>
            </div>
        </section>
    }
}

/// The warning everyone in sees in the last minutes of the window.
fn ending_warning(panel: Option<&Panel>, owner: bool) -> Option<String> {
    let panel = panel.filter(|panel| panel.ending_soon)?;
    let end = panel.ends_at.as_deref().unwrap_or("soon");
    Some(match owner {
        true => format!(
            "This session ends at {end}, in less than five minutes. Extend it on My Sessions to keep it open."
        ),
        false => format!(
            "This session ends at {end}, in less than five minutes; its owner can extend it."
        ),
    })
}

#[cfg(test)]
mod tests {
    use protocol::Participant;

    use super::*;

    fn panel(ending_soon: bool) -> Panel {
        Panel {
            creator: 1,
            controller: 1,
            participants: vec![Participant {
                id: 1,
                name: "Olivia".to_owned(),
                online: true,
            }],
            participant_count: 1,
            requests: vec![],
            shared: false,
            monitors: vec![],
            ends_at: Some("2026-12-03 10:30 UTC".to_owned()),
            ending_soon,
        }
    }

    #[test]
    fn the_five_minute_warning_shows_only_when_the_end_is_near_and_tells_the_owner_how_to_extend() {
        assert_eq!(ending_warning(None, true), None);
        assert_eq!(ending_warning(Some(&panel(false)), true), None);
        assert_eq!(
            ending_warning(Some(&panel(true)), true).as_deref(),
            Some(
                "This session ends at 2026-12-03 10:30 UTC, in less than five minutes. Extend it on My Sessions to keep it open."
            )
        );
        assert_eq!(
            ending_warning(Some(&panel(true)), false).as_deref(),
            Some(
                "This session ends at 2026-12-03 10:30 UTC, in less than five minutes; its owner can extend it."
            )
        );
    }
}
