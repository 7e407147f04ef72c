//! My Dashboard > My Sessions: the active and scheduled sessions I own or
//! that were shared with me, with the owner's Share, Extend, Stop and
//! Cancel and an added user's View; and scheduling a session.

mod share_dialog;

use domain::{MySessionRecord, SessionStatus, UserMatch};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::error::{AppError, ErrorPage, form_error};
use crate::invitation::JoinWithCode;
use share_dialog::ShareSessionDialog;

#[server(endpoint = "my_sessions")]
pub async fn my_sessions() -> Result<Vec<MySessionRecord>, AppError> {
    let actor = crate::server::current_actor().await?;
    Ok(crate::server::services()?.my_sessions(&actor).await?)
}

/// Schedules a session; `start` is `YYYY-MM-DDTHH:MM` in UTC (what a
/// `datetime-local` input sends). Returns its id.
#[server(endpoint = "schedule_session")]
pub async fn schedule_session(
    host_account_id: i64,
    title: String,
    start: String,
    minutes: i64,
) -> Result<i64, AppError> {
    let actor = crate::server::current_actor().await?;
    let start = chrono::NaiveDateTime::parse_from_str(start.trim(), "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(start.trim(), "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| AppError::Invalid {
            field: "start".to_owned(),
            message: "must be a date and time like 2026-12-24T09:30".to_owned(),
        })?
        .and_utc();
    let length = domain::window_minutes(minutes).map_err(services::ServiceError::from)?;
    let id = crate::server::services()?
        .schedule_session(
            &actor,
            domain::HostAccountId(host_account_id),
            &title,
            start,
            length,
        )
        .await?;
    Ok(id.0)
}

#[server(endpoint = "extend_session")]
pub async fn extend_session(id: i64, minutes: i64) -> Result<(), AppError> {
    let actor = crate::server::current_actor().await?;
    let by = domain::window_minutes(minutes).map_err(services::ServiceError::from)?;
    Ok(crate::server::services()?
        .extend_session(&actor, domain::OmSessionId(id), by)
        .await?)
}

#[server(endpoint = "stop_session")]
pub async fn stop_session(id: i64) -> Result<(), AppError> {
    let actor = crate::server::current_actor().await?;
    Ok(crate::server::services()?
        .stop_session(&actor, domain::OmSessionId(id))
        .await?)
}

#[server(endpoint = "cancel_session")]
pub async fn cancel_session(id: i64) -> Result<(), AppError> {
    let actor = crate::server::current_actor().await?;
    Ok(crate::server::services()?
        .cancel_session(&actor, domain::OmSessionId(id))
        .await?)
}

/// View: enters an active session shared with me and opens its page.
#[server(endpoint = "view_session")]
pub async fn view_session(id: i64) -> Result<(), AppError> {
    let actor = crate::server::current_actor().await?;
    let address = crate::server::client_address().await?;
    crate::server::services()?
        .view_session(&actor, domain::OmSessionId(id), address)
        .await?;
    leptos_axum::redirect(&format!("/sessions/{id}"));
    Ok(())
}

/// Users to share with, by user ID, name or email: in the session's
/// project, or everyone when `password` (the owner's own) is given.
#[server(endpoint = "search_users")]
pub async fn search_users(
    id: i64,
    query: String,
    password: Option<String>,
) -> Result<Vec<UserMatch>, AppError> {
    let actor = crate::server::current_actor().await?;
    let everyone = password.as_deref().filter(|password| !password.is_empty());
    Ok(crate::server::services()?
        .search_users(&actor, domain::OmSessionId(id), &query, everyone)
        .await?)
}

/// Share: `users` is a comma-separated list of user ids. Users outside
/// the session's project need `purpose` and `customer` (Session Use) and
/// the owner's `password`.
#[server(endpoint = "share_with_users")]
pub async fn share_with_users(
    id: i64,
    users: String,
    note: String,
    purpose: Option<String>,
    customer: Option<String>,
    comment: Option<String>,
    password: Option<String>,
) -> Result<(), AppError> {
    let actor = crate::server::current_actor().await?;
    let users = users
        .split(',')
        .map(str::trim)
        .filter(|user| !user.is_empty())
        .map(|user| user.parse().map(domain::UserId))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| AppError::Invalid {
            field: "users".to_owned(),
            message: "must be user ids separated by commas".to_owned(),
        })?;
    let session_use = match (purpose.as_deref(), customer.as_deref()) {
        (None | Some(""), None | Some("")) => None,
        (purpose, customer) => Some(
            domain::SessionUse::parse(
                purpose.unwrap_or_default(),
                customer.unwrap_or_default(),
                comment.as_deref().unwrap_or_default(),
            )
            .map_err(services::ServiceError::from)?,
        ),
    };
    let share = services::NamedShare {
        users,
        note,
        session_use,
        password: password.unwrap_or_default(),
    };
    Ok(crate::server::services()?
        .share_with_users(&actor, domain::OmSessionId(id), share)
        .await?)
}

#[server(endpoint = "remove_member")]
pub async fn remove_member(id: i64, user: i64) -> Result<(), AppError> {
    let actor = crate::server::current_actor().await?;
    Ok(crate::server::services()?
        .remove_member(&actor, domain::OmSessionId(id), domain::UserId(user))
        .await?)
}

/// How much Extend adds.
const EXTEND_MINUTES: i64 = 30;

#[component]
pub fn MySessionsPage() -> impl IntoView {
    let changed = RwSignal::new(0_u32);
    let extend = ServerAction::<ExtendSession>::new();
    let stop = ServerAction::<StopSession>::new();
    let cancel = ServerAction::<CancelSession>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let view_action = ServerAction::<ViewSession>::new();
    // Outside the rows, which are rebuilt at every refresh.
    let sharing = RwSignal::new(None::<(i64, String)>);
    let members_of = RwSignal::new(None::<i64>);
    let sessions = Resource::new(
        move || {
            (
                changed.get(),
                extend.version().get(),
                stop.version().get(),
                cancel.version().get(),
                remove.version().get(),
            )
        },
        |_| my_sessions(),
    );
    // Scheduled sessions start and shared ones appear on their own: look
    // again every few seconds.
    #[cfg(feature = "hydrate")]
    {
        let refresh = set_interval_with_handle(
            move || changed.update(|count| *count += 1),
            std::time::Duration::from_secs(3),
        );
        on_cleanup(move || {
            if let Ok(refresh) = refresh {
                refresh.clear();
            }
        });
    }
    view! {
        <Title text="My Sessions · Tandem"/>
        <h1>"My Sessions"</h1>
        <JoinWithCode/>
        {view! {
            {form_error(extend.value())}
            {form_error(stop.value())}
            {form_error(cancel.value())}
            {form_error(remove.value())}
            {form_error(view_action.value())}
        }.into_any()}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match sessions.await {
                    Err(error) => view! { <ErrorPage error/> }.into_any(),
                    Ok(rows) if rows.is_empty() => view! {
                        <p class="empty">"No active or scheduled sessions. Log in or schedule one on Host Operations."</p>
                    }.into_any(),
                    Ok(rows) => view! {
                        <table class="my-sessions">
                            <thead><tr>
                                <th>"Title"</th><th>"Host"</th><th>"Account"</th><th>"Status"</th>
                                <th>"Start"</th><th>"End"</th><th>"Owner"</th><th></th>
                            </tr></thead>
                            <tbody>
                                {rows.into_iter().map(|row| view! {
                                    <SessionRow row extend stop cancel remove view_action sharing members_of/>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Transition>
        {move || sharing.get().map(|(id, title)| view! {
            <ShareSessionDialog session_id=id title open=sharing changed/>
        })}
    }
}

#[component]
fn SessionRow(
    row: MySessionRecord,
    extend: ServerAction<ExtendSession>,
    stop: ServerAction<StopSession>,
    cancel: ServerAction<CancelSession>,
    remove: ServerAction<RemoveMember>,
    view_action: ServerAction<ViewSession>,
    sharing: RwSignal<Option<(i64, String)>>,
    members_of: RwSignal<Option<i64>>,
) -> impl IntoView {
    let id = row.id.0;
    let active = row.status == SessionStatus::Active;
    let status = match &row.failure {
        Some((code, message)) => format!("{} ({code}): {message}", row.status.label()),
        None => row.status.label().to_owned(),
    };
    let members = row.members.clone();
    let title = row.title.clone();
    let owner_actions = row.viewer_is_owner.then(|| {
        let toggle_members = move |_| {
            members_of.update(|shown| *shown = (*shown != Some(id)).then_some(id))
        };
        let count = members.len();
        view! {
            <button type="button" class="link" on:click=toggle_members>
                {format!("Shared with ({count})")}
            </button>
            {move || (members_of.get() == Some(id)).then(|| view! {
                <SharedWith session_id=id members=members.clone() remove/>
            })}
            <button type="button" on:click=move |_| sharing.set(Some((id, title.clone())))>"Share"</button>
            <ActionForm action=extend>
                <input type="hidden" name="id" value=id/>
                <input type="hidden" name="minutes" value=EXTEND_MINUTES/>
                <button type="submit" title=format!("{EXTEND_MINUTES} minutes more")>"Extend"</button>
            </ActionForm>
            {match active {
                true => view! {
                    <a class="button" href=format!("/sessions/{id}")>"Open"</a>
                    <ActionForm action=stop>
                        <input type="hidden" name="id" value=id/>
                        <button type="submit" class="danger">"Stop"</button>
                    </ActionForm>
                }.into_any(),
                false => view! {
                    <ActionForm action=cancel>
                        <input type="hidden" name="id" value=id/>
                        <button type="submit" class="danger">"Cancel"</button>
                    </ActionForm>
                }.into_any(),
            }}
        }
    });
    let viewer_actions = (!row.viewer_is_owner && active).then(|| {
        view! {
            <ActionForm action=view_action>
                <input type="hidden" name="id" value=id/>
                <button type="submit">"View"</button>
            </ActionForm>
        }
    });
    view! {
        <tr aria-label=row.title.clone()>
            <td>{row.title.clone()}</td>
            <td>{row.host_name}</td>
            <td>{row.login}</td>
            <td class="status">{status}</td>
            <td>{row.start}</td>
            <td>{row.end}</td>
            <td>{row.owner}</td>
            <td class="actions">{owner_actions}{viewer_actions}</td>
        </tr>
    }
    .into_any()
}

/// The owner's list of the users added to a session, each with Remove.
#[component]
fn SharedWith(
    session_id: i64,
    members: Vec<domain::MemberRecord>,
    remove: ServerAction<RemoveMember>,
) -> impl IntoView {
    if members.is_empty() {
        return view! { <p class="muted">"Nobody yet."</p> }.into_any();
    }
    view! {
        <ul aria-label="Shared with">
            {members.into_iter().map(|member| view! {
                <li>
                    {format!("{} ({})", member.display_name, member.username)}
                    <ActionForm action=remove>
                        <input type="hidden" name="id" value=session_id/>
                        <input type="hidden" name="user" value=member.user.0/>
                        <button type="submit" class="secondary" aria-label=format!("Remove {}", member.username)>"Remove"</button>
                    </ActionForm>
                </li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}
