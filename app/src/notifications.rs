//! The bell in the navigation bar: unread notifications, and their list.

use domain::NotificationRecord;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationList {
    pub items: Vec<NotificationRecord>,
    pub unread: u64,
}

#[server(endpoint = "notifications")]
pub async fn notifications() -> Result<NotificationList, AppError> {
    let actor = crate::server::current_actor().await?;
    let (items, unread) = crate::server::services()?.notifications(&actor).await?;
    Ok(NotificationList { items, unread })
}

#[server(endpoint = "mark_notifications_read")]
pub async fn mark_notifications_read() -> Result<(), AppError> {
    let actor = crate::server::current_actor().await?;
    Ok(crate::server::services()?
        .mark_notifications_read(&actor)
        .await?)
}

/// How often the bell looks for new notifications.
#[cfg(feature = "hydrate")]
const POLL: std::time::Duration = std::time::Duration::from_secs(5);

/// Loaded by the browser alone, after hydration, so the page the server
/// renders does not wait for it and hydrates without it.
#[component]
pub fn NotificationBell() -> impl IntoView {
    let open = RwSignal::new(false);
    let list = RwSignal::new(None::<Result<NotificationList, AppError>>);
    let polls = RwSignal::new(0_u32);
    let mark_read = Action::new(|_: &()| mark_notifications_read());
    Effect::new(move |_| {
        polls.track();
        mark_read.version().track();
        leptos::task::spawn_local(async move { list.set(Some(notifications().await)) });
    });
    #[cfg(feature = "hydrate")]
    {
        let poll = set_interval_with_handle(move || polls.update(|count| *count += 1), POLL);
        on_cleanup(move || {
            if let Ok(poll) = poll {
                poll.clear();
            }
        });
    }
    let toggle = move |_| {
        let opening = !open.get_untracked();
        open.set(opening);
        if opening {
            mark_read.dispatch(());
        }
    };
    let unread = move || {
        list.with(|list| match list {
            Some(Ok(list)) => list.unread,
            _ => 0,
        })
    };
    view! {
        <div class="bell">
            <button type="button" on:click=toggle
                aria-label=move || format!("Notifications, {} unread", unread())
                aria-expanded=move || open.get().to_string()>
                "🔔"
                {move || (unread() > 0).then(|| view! { <span class="badge">{unread()}</span> })}
            </button>
            {move || open.get().then(|| list.get().map(|list| view! { <NotificationItems list/> }))}
        </div>
    }
}

#[component]
fn NotificationItems(list: Result<NotificationList, AppError>) -> impl IntoView {
    let items = match list {
        Err(error) => return view! { <p role="alert">{error.to_string()}</p> }.into_any(),
        Ok(list) => list.items,
    };
    view! {
        <div class="notifications" role="region" aria-label="Notifications">
            {match items.is_empty() {
                true => view! { <p class="muted">"No notifications."</p> }.into_any(),
                false => view! {
                    <ul>
                        {items.into_iter().map(|item| view! {
                            <li class:unread=!item.read>
                                <a href=item.link>{item.text}</a>
                                <span class="muted">" · " {item.created_at}</span>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </div>
    }
    .into_any()
}
