//! Playing recordings: the player page of one session
//! (`/sessions/:id/play`) and Operation > Past sessions, my ended sessions
//! with a Play link each.

#[cfg(feature = "hydrate")]
mod player_js;

use domain::{PastSessionRecord, RecordingRecord, format_duration, format_size};
use leptos::html::Div;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::error::{AppError, ErrorPage};

/// The speeds the Speed select offers: `(value, label)`.
const SPEEDS: [(&str, &str); 4] = [("0.5", "0.5x"), ("1", "1x"), ("2", "2x"), ("4", "4x")];

#[server(endpoint = "recording")]
pub async fn recording(id: i64) -> Result<RecordingRecord, AppError> {
    let actor = crate::server::current_actor().await?;
    Ok(crate::server::services()?
        .recording(&actor, domain::OmSessionId(id))
        .await?
        .record)
}

#[server(endpoint = "past_sessions")]
pub async fn past_sessions() -> Result<Vec<PastSessionRecord>, AppError> {
    let actor = crate::server::current_actor().await?;
    Ok(crate::server::services()?.own_past_sessions(&actor).await?)
}

/// Where the player fetches a session's recording.
pub fn cast_url(session_id: i64) -> String {
    format!("/sessions/{session_id}/recording.cast")
}

/// Where the player fetches the screens it seeks from.
#[cfg(feature = "hydrate")]
fn keyframes_url(session_id: i64) -> String {
    format!("/sessions/{session_id}/recording.keyframes.json")
}

/// `mm:ss` (minutes may pass 59) of a time into a recording.
pub fn clock(seconds: f64) -> String {
    // Truncated, as players show elapsed time; negative and NaN become 0.
    let whole = if seconds.is_finite() && seconds > 0.0 {
        seconds as u64
    } else {
        0
    };
    format!("{:02}:{:02}", whole / 60, whole % 60)
}

/// An RFC 3339 UTC time as `2026-11-25 09:30:00 UTC`; anything else as is.
pub fn moment(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..19)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => rfc3339.to_owned(),
    }
}

fn or_unknown(value: Option<u64>, format: fn(u64) -> String) -> String {
    value.map_or_else(|| "unknown".to_owned(), format)
}

// What the page's own buttons do; on the server they are never called.
fn play() {
    #[cfg(feature = "hydrate")]
    player_js::play();
}

fn pause() {
    #[cfg(feature = "hydrate")]
    player_js::pause();
}

fn seek(seconds: f64) {
    #[cfg(feature = "hydrate")]
    player_js::seek(seconds);
    #[cfg(not(feature = "hydrate"))]
    let _ = seconds;
}

fn set_speed(speed: f64) {
    #[cfg(feature = "hydrate")]
    player_js::set_speed(speed);
    #[cfg(not(feature = "hydrate"))]
    let _ = speed;
}

#[component]
pub fn PlayerPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|params| params.get("id").and_then(|id| id.parse::<i64>().ok()));
    let record = Resource::new(id, |id| async move {
        match id {
            Some(id) => recording(id).await,
            None => Err(AppError::NotFound("session".to_owned())),
        }
    });
    view! {
        <Title text="Recording · Tandem"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match record.await {
                    Err(error) => view! { <ErrorPage error/> }.into_any(),
                    Ok(record) => view! { <PlayerView record/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn PlayerView(record: RecordingRecord) -> impl IntoView {
    let container = NodeRef::<Div>::new();
    let session_id = record.id.0;
    #[cfg(feature = "hydrate")]
    Effect::new(move |mounted: Option<bool>| {
        if mounted == Some(true) {
            return true;
        }
        match container.get() {
            Some(element) => {
                let source = player_js::Source {
                    cast: cast_url(session_id),
                    keyframes: keyframes_url(session_id),
                };
                player_js::mount(source, element.into());
                true
            }
            None => false,
        }
    });
    #[cfg(feature = "hydrate")]
    on_cleanup(player_js::dispose);
    let ended = match &record.ended {
        Some((code, message)) => format!("{message} ({code})"),
        None => "still running".to_owned(),
    };
    let markers = record.markers.clone();
    view! {
        <section class="recording">
            <header class="session-header">
                <h1>{record.label.clone()}</h1>
                <span class="muted">{format!("Recording of session {session_id}")}</span>
            </header>
            <dl class="recording-details">
                <dt>"Project"</dt><dd>{record.project_name.clone()}</dd>
                <dt>"Creator"</dt><dd>{record.creator.clone()}</dd>
                <dt>"Started"</dt><dd>{moment(&record.started_at)}</dd>
                <dt>"Ended"</dt><dd>{record.ended_at.as_deref().map_or_else(|| "—".to_owned(), moment)}</dd>
                <dt>"End reason"</dt><dd>{ended}</dd>
                <dt>"Duration"</dt><dd>{or_unknown(record.duration_ms, format_duration)}</dd>
                <dt>"Size"</dt><dd>{or_unknown(record.size, format_size)}</dd>
            </dl>
            <div class="player-controls" role="group" aria-label="Playback">
                <button type="button" on:click=move |_| play()>"Play"</button>
                <button type="button" on:click=move |_| pause()>"Pause"</button>
                <label>"Speed "
                    <select on:change=move |event| {
                        if let Ok(speed) = event_target_value(&event).parse::<f64>() {
                            set_speed(speed);
                        }
                    }>
                        {SPEEDS.into_iter().map(|(value, label)| view! {
                            <option value=value selected=value == "1">{label}</option>
                        }).collect_view()}
                    </select>
                </label>
                <a href=cast_url(session_id) download=format!("session-{session_id}.cast")>"Download"</a>
            </div>
            <div class="player" node_ref=container data-session=session_id></div>
            <nav class="markers" aria-label="Markers">
                <h2>"Markers"</h2>
                {match markers.is_empty() {
                    true => view! { <p class="empty">"This recording has no markers."</p> }.into_any(),
                    false => view! {
                        <ul>
                            {markers.into_iter().map(|marker| {
                                let seconds = marker.seconds;
                                view! {
                                    <li>
                                        <button type="button" on:click=move |_| seek(seconds)>
                                            {format!("{} {}", clock(seconds), marker.label)}
                                        </button>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                }}
            </nav>
        </section>
    }
}

#[component]
pub fn PastSessionsPage() -> impl IntoView {
    let sessions = Resource::new(|| (), |_| past_sessions());
    view! {
        <Title text="Past sessions · Tandem"/>
        <h1>"Past sessions"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match sessions.await {
                    Err(error) => view! { <ErrorPage error/> }.into_any(),
                    Ok(sessions) if sessions.is_empty() => view! {
                        <p class="empty">"You have no ended sessions yet."</p>
                    }.into_any(),
                    Ok(sessions) => view! {
                        <table>
                            <thead>
                                <tr>
                                    <th>"Started"</th><th>"Host account"</th><th>"Project"</th><th>"Ended"</th>
                                    <th>"End reason"</th><th>"Duration"</th><th>"Size"</th><th></th>
                                </tr>
                            </thead>
                            <tbody>
                                {sessions.into_iter().map(|session| view! {
                                    <tr>
                                        <td>{moment(&session.started_at)}</td>
                                        <td>{session.label}</td>
                                        <td>{session.project_name}</td>
                                        <td>{session.ended_at.as_deref().map_or_else(String::new, moment)}</td>
                                        <td>{session.ended.map(|(code, message)| format!("{message} ({code})"))}</td>
                                        <td>{or_unknown(session.duration_ms, format_duration)}</td>
                                        <td>{session.size.map(format_size)}</td>
                                        <td>
                                            {session.has_recording.then(|| view! {
                                                <a href=format!("/sessions/{}/play", session.id)>"Play"</a>
                                            })}
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_times_are_minutes_and_seconds() {
        assert_eq!(clock(0.0), "00:00");
        assert_eq!(clock(59.999), "00:59");
        assert_eq!(clock(61.5), "01:01");
        assert_eq!(clock(3725.0), "62:05");
        assert_eq!(clock(-3.0), "00:00");
        assert_eq!(clock(f64::NAN), "00:00");
    }

    #[test]
    fn times_drop_fractions_and_offset() {
        assert_eq!(
            moment("2026-11-25T09:30:00.123456+00:00"),
            "2026-11-25 09:30:00 UTC"
        );
        assert_eq!(moment("soon"), "soon");
    }
}
