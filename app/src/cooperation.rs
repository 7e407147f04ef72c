//! Sharing on the session page: the participants panel with the control
//! buttons, and the creator's Share dialog with the join records. The panel
//! follows the `Panel` events of the terminal socket; every button is a
//! server function, so the server decides every rule.

use domain::{JoinRecord, ShareRecord, ShareValidity};
use leptos::prelude::*;
use protocol::Panel;

use crate::error::{AppError, form_error};

#[server(endpoint = "request_control")]
pub async fn request_control(id: i64) -> Result<(), AppError> {
    let actor = crate::server::current_actor().await?;
    Ok(crate::server::services()?
        .request_control(&actor, domain::OmSessionId(id))
        .await?)
}

#[server(endpoint = "agree_control")]
pub async fn agree_control(id: i64, requester: i64) -> Result<(), AppError> {
    answer(id, requester, true).await
}

#[server(endpoint = "refuse_control")]
pub async fn refuse_control(id: i64, requester: i64) -> Result<(), AppError> {
    answer(id, requester, false).await
}

#[cfg(feature = "ssr")]
async fn answer(id: i64, requester: i64, agree: bool) -> Result<(), AppError> {
    let actor = crate::server::current_actor().await?;
    Ok(crate::server::services()?
        .answer_control_request(
            &actor,
            domain::OmSessionId(id),
            domain::UserId(requester),
            agree,
        )
        .await?)
}

#[server(endpoint = "release_control")]
pub async fn release_control(id: i64) -> Result<(), AppError> {
    let actor = crate::server::current_actor().await?;
    Ok(crate::server::services()?
        .release_control(&actor, domain::OmSessionId(id))
        .await?)
}

#[server(endpoint = "take_control_back")]
pub async fn take_control_back(id: i64) -> Result<(), AppError> {
    let actor = crate::server::current_actor().await?;
    Ok(crate::server::services()?
        .take_control_back(&actor, domain::OmSessionId(id))
        .await?)
}

#[server(endpoint = "session_share")]
pub async fn session_share(id: i64) -> Result<Option<ShareRecord>, AppError> {
    let actor = crate::server::current_actor().await?;
    Ok(crate::server::services()?
        .session_share(&actor, domain::OmSessionId(id))
        .await?)
}

#[server(endpoint = "create_share")]
pub async fn create_share(
    id: i64,
    validity: String,
    password: String,
) -> Result<ShareRecord, AppError> {
    let actor = crate::server::current_actor().await?;
    let validity = ShareValidity::parse(&validity).map_err(services::ServiceError::from)?;
    let password = domain::SharePassword::parse(&password).map_err(services::ServiceError::from)?;
    Ok(crate::server::services()?
        .create_share(&actor, domain::OmSessionId(id), validity, password)
        .await?)
}

#[server(endpoint = "cancel_share")]
pub async fn cancel_share(id: i64) -> Result<(), AppError> {
    let actor = crate::server::current_actor().await?;
    Ok(crate::server::services()?
        .cancel_share(&actor, domain::OmSessionId(id))
        .await?)
}

#[server(endpoint = "join_records")]
pub async fn join_records(id: i64) -> Result<Vec<JoinRecord>, AppError> {
    let actor = crate::server::current_actor().await?;
    Ok(crate::server::services()?
        .join_records(&actor, domain::OmSessionId(id))
        .await?)
}

/// Who is in, who has control, the pending requests, who monitors, and
/// the buttons this viewer may use (none for a monitor, who is not in the
/// session). Empty until the terminal socket sends the first panel.
#[component]
pub fn ParticipantsPanel(
    session_id: i64,
    viewer: i64,
    monitoring: bool,
    panel: RwSignal<Option<Panel>>,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let request = ServerAction::<RequestControl>::new();
    let agree = ServerAction::<AgreeControl>::new();
    let refuse = ServerAction::<RefuseControl>::new();
    let release = ServerAction::<ReleaseControl>::new();
    let take_back = ServerAction::<TakeControlBack>::new();
    let participants = move || {
        panel.get().map(|panel| {
            panel
                .participants
                .iter()
                .map(|participant| {
                    let mut label = participant.name.clone();
                    if participant.id == panel.creator {
                        label.push_str(" (creator)");
                    }
                    if participant.id == viewer {
                        label.push_str(" (you)");
                    }
                    let in_control = participant.id == panel.controller;
                    let away = !participant.online;
                    view! {
                        <li class:in-control=in_control>
                            {label}
                            {in_control.then_some(view! { <strong>" · has control"</strong> })}
                            {away.then_some(view! { <span class="muted">" · away"</span> })}
                        </li>
                    }
                })
                .collect_view()
        })
    };
    // A crowd is counted, not listed.
    let unlisted = move || {
        panel.with(|panel| {
            panel.as_ref().and_then(|panel| {
                let more =
                    (panel.participant_count as usize).saturating_sub(panel.participants.len());
                (more > 0).then(|| format!("and {more} more"))
            })
        })
    };
    let requests = move || {
        panel.get().map(|panel| {
            let may_answer = panel.may_answer(viewer);
            panel
                .requests
                .iter()
                .map(|requester| {
                    let requester = *requester;
                    let name = panel.name_of(requester).to_owned();
                    view! {
                        <li aria-label=format!("Request from {name}")>
                            {format!("{name} asks for control")}
                            {may_answer.then(|| view! {
                                <ActionForm action=agree>
                                    <input type="hidden" name="id" value=session_id/>
                                    <input type="hidden" name="requester" value=requester/>
                                    <button type="submit">"Agree"</button>
                                </ActionForm>
                                <ActionForm action=refuse>
                                    <input type="hidden" name="id" value=session_id/>
                                    <input type="hidden" name="requester" value=requester/>
                                    <button type="submit" class="secondary">"Refuse"</button>
                                </ActionForm>
                            })}
                        </li>
                    }
                })
                .collect_view()
        })
    };
    let is_creator =
        move || panel.with(|panel| panel.as_ref().is_some_and(|p| p.creator == viewer));
    let has_control =
        move || panel.with(|panel| panel.as_ref().is_some_and(|p| p.controller == viewer));
    let has_requested =
        move || panel.with(|panel| panel.as_ref().is_some_and(|p| p.requests.contains(&viewer)));
    // Everyone in is told, for as long as an administrator watches.
    let monitors = move || {
        panel.with(|panel| {
            panel
                .as_ref()
                .filter(|panel| !panel.monitors.is_empty())
                .map(|panel| {
                    format!(
                        "An administrator is monitoring: {}",
                        panel.monitors.join(", ")
                    )
                })
        })
    };
    let controller = move || {
        panel.with(|panel| {
            panel
                .as_ref()
                .map(|panel| match panel.controller == viewer {
                    true => "You have control.".to_owned(),
                    false => format!(
                        "{} has control; your terminal is read-only.",
                        panel.name_of(panel.controller)
                    ),
                })
        })
    };
    // A failed action (a request answered meanwhile, say) is shown like a
    // notice from the server.
    for result in [
        request.value(),
        agree.value(),
        refuse.value(),
        release.value(),
        take_back.value(),
    ] {
        show_failure(result, notice);
    }
    view! {
        <aside class="panel" aria-label="Participants">
            <h2>"Participants"</h2>
            <ul class="participants">{participants}</ul>
            <p class="muted">{unlisted}</p>
            <p class="controller">{controller}</p>
            <p class="monitoring" role="status" aria-label="Monitoring">{monitors}</p>
            <Show when=move || panel.with(|panel| panel.as_ref().is_some_and(|p| !p.requests.is_empty()))>
                <h3>"Requests for control"</h3>
                <ul class="requests">{requests}</ul>
            </Show>
            <p class="notice" role="status" aria-label="Control notice">{move || notice.get()}</p>
            <Show when=move || panel.with(Option::is_some) && !monitoring && !is_creator() && !has_control()>
                <ActionForm action=request>
                    <input type="hidden" name="id" value=session_id/>
                    <button type="submit" disabled=has_requested>"Apply for control"</button>
                </ActionForm>
                <Show when=has_requested>
                    <p class="muted">"Waiting for an answer…"</p>
                </Show>
            </Show>
            <Show when=move || !is_creator() && has_control()>
                <ActionForm action=release>
                    <input type="hidden" name="id" value=session_id/>
                    <button type="submit">"Release control"</button>
                </ActionForm>
            </Show>
            <Show when=move || panel.with(Option::is_some) && is_creator() && !has_control()>
                <ActionForm action=take_back>
                    <input type="hidden" name="id" value=session_id/>
                    <button type="submit">"Take control back"</button>
                </ActionForm>
            </Show>
        </aside>
    }
    .into_any()
}

fn show_failure<V>(result: V, notice: RwSignal<Option<String>>)
where
    V: With<Value = Option<Result<(), AppError>>> + Send + Sync + 'static,
{
    Effect::new(move |_| {
        result.with(|result| {
            if let Some(Err(error)) = result {
                notice.set(Some(error.to_string()));
            }
        });
    });
}

/// The creator's Share dialog: Invite friends, the invitation URL with
/// Copy, Cancel share, and who joined or was refused.
#[component]
pub fn ShareDialog(session_id: i64, panel: RwSignal<Option<Panel>>) -> impl IntoView {
    let open = RwSignal::new(false);
    let create = ServerAction::<CreateShare>::new();
    let cancel = ServerAction::<CancelShare>::new();
    let share = Resource::new(
        move || (open.get(), create.version().get(), cancel.version().get()),
        move |(open, _, _)| async move {
            match open {
                true => session_share(session_id).await,
                false => Ok(None),
            }
        },
    );
    // Entries, refusals and departures change the panel: reload the records
    // with it.
    let records = Resource::new(
        move || (open.get(), panel.with(|panel| panel.clone())),
        move |(open, _)| async move {
            match open {
                true => join_records(session_id).await,
                false => Ok(Vec::new()),
            }
        },
    );
    view! {
        <button type="button" on:click=move |_| open.update(|open| *open = !*open)>"Share"</button>
        <Show when=move || open.get()>
            <div class="share-dialog" role="dialog" aria-label="Share session">
                <h2>"Share session"</h2>
                <Transition fallback=|| view! { <p>"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match share.await {
                            Err(error) => view! { <p role="alert">{error.to_string()}</p> }.into_any(),
                            Ok(Some(share)) => view! { <Invitation share cancel session_id/> }.into_any(),
                            Ok(None) => view! {
                                <ActionForm action=create>
                                    <input type="hidden" name="id" value=session_id/>
                                    <label>"Valid for"
                                        <select name="validity">
                                            {ShareValidity::ALL.into_iter().map(|validity| view! {
                                                <option value=validity.as_str() selected=validity == ShareValidity::default()>
                                                    {validity.label()}
                                                </option>
                                            }).collect_view()}
                                        </select>
                                    </label>
                                    <label>"Password (optional)"
                                        <input name="password" type="password" autocomplete="new-password"/>
                                    </label>
                                    <button type="submit">"Invite friends"</button>
                                </ActionForm>
                            }.into_any(),
                        }
                    })}
                </Transition>
                {form_error(create.value())}
                {form_error(cancel.value())}
                <h3>"Join records"</h3>
                <Transition>
                    {move || Suspend::new(async move {
                        records.await.ok().map(|records| view! { <JoinRecords records/> })
                    })}
                </Transition>
                <button type="button" class="secondary" on:click=move |_| open.set(false)>"Close"</button>
            </div>
        </Show>
    }
    .into_any()
}

#[component]
fn Invitation(
    share: ShareRecord,
    cancel: ServerAction<CancelShare>,
    session_id: i64,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    let url = share.url.clone();
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let clipboard = window().navigator().clipboard();
            let promise = clipboard.write_text(&url);
            leptos::task::spawn_local(async move {
                copied.set(wasm_bindgen_futures::JsFuture::from(promise).await.is_ok());
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&url, copied);
    };
    view! {
        <label>"Invitation URL"
            <input class="invitation-url" readonly value=share.url.clone()/>
        </label>
        <div class="actions">
            <button type="button" on:click=copy>"Copy"</button>
            <Show when=move || copied.get()>
                <span class="muted">"Copied"</span>
            </Show>
        </div>
        <p class="muted">
            {format!("Code {} · valid until {}", share.code, share.expires_at)}
            {share.has_password.then_some(" · password protected")}
        </p>
        <ActionForm action=cancel>
            <input type="hidden" name="id" value=session_id/>
            <button type="submit" class="danger">"Cancel share"</button>
        </ActionForm>
    }
}

#[component]
fn JoinRecords(records: Vec<JoinRecord>) -> impl IntoView {
    if records.is_empty() {
        return view! { <p class="empty">"Nobody has used the invitation yet."</p> }.into_any();
    }
    view! {
        <table class="join-records">
            <thead><tr><th>"User"</th><th>"Address"</th><th>"At"</th><th>"Outcome"</th></tr></thead>
            <tbody>
                {records.into_iter().map(|record| {
                    let outcome = match (&record.refusal, &record.left_at) {
                        (Some((code, title)), _) => format!("Refused: {title} ({code})"),
                        (None, Some(left_at)) => format!("Entered, left {left_at}"),
                        (None, None) => "Entered".to_owned(),
                    };
                    view! {
                        <tr><td>{record.username}</td><td>{record.address}</td><td>{record.at}</td><td>{outcome}</td></tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
