//! The session page: the terminal and its controls. Login on Host
//! Operations opens a session and lands here.

use domain::OmSessionRecord;
use leptos::html::Div;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

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

#[server(endpoint = "close_session")]
pub async fn close_session(id: i64) -> Result<(), AppError> {
    let actor = crate::server::current_actor().await?;
    crate::server::services()?
        .close_session(&actor, domain::OmSessionId(id))
        .await?;
    Ok(())
}

/// What the terminal's connection is doing, shown above it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TerminalStatus {
    Connecting,
    Live,
    Ended(String),
    Lost(String),
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
    let status = RwSignal::new(match &record.ended {
        Some((_, message)) => TerminalStatus::Ended(message.clone()),
        None => TerminalStatus::Connecting,
    });
    let container = NodeRef::<Div>::new();
    let close = ServerAction::<CloseSession>::new();
    let session_id = record.id.0;
    #[cfg(feature = "hydrate")]
    let live = record.ended.is_none();
    #[cfg(feature = "hydrate")]
    Effect::new(move |started: Option<bool>| {
        if started == Some(true) || !live {
            return true;
        }
        match container.get() {
            Some(element) => {
                crate::terminal::start(session_id, element.into(), status);
                true
            }
            None => false,
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = close.value().get() {
            status.set(TerminalStatus::Ended("You closed the session.".to_owned()));
        }
    });
    let account = record.account;
    view! {
        <section class="session">
            <header class="session-header">
                <h1>{format!("{}@{}", account.login, account.host_name)}</h1>
                <span class="muted">
                    {format!("{} · {}:{} · started {}", account.project_name, account.address, account.port, record.started_at)}
                </span>
                <ActionForm action=close>
                    <input type="hidden" name="id" value=session_id/>
                    <button type="submit" disabled=move || !matches!(status.get(), TerminalStatus::Connecting | TerminalStatus::Live)>
                        "Exit session"
                    </button>
                </ActionForm>
            </header>
            {form_error(close.value())}
            <p class="terminal-status" role="status">
                {move || match status.get() {
                    TerminalStatus::Connecting => "Connecting…".to_owned(),
                    TerminalStatus::Live => String::new(),
                    TerminalStatus::Ended(message) | TerminalStatus::Lost(message) => message,
                }}
            </p>
            <div class="terminal" node_ref=container data-session=session_id></div>
        </section>
    }
}
