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

#[component]
pub fn NotificationBell() -> impl IntoView {
    let open = RwSignal::new(false);
    let polls = RwSignal::new(0_u32);
    let mark_read = Action::new(|_: &()| mark_notifications_read());
    let list = Resource::new(
        move || (polls.get(), mark_read.version().get()),
        |_| notifications(),
    );
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
        list.get()
            .and_then(Result::ok)
            .map_or(0, |list| list.unread)
    };
    view! {
        <div class="bell">
            <button type="button" on:click=toggle
                aria-label=move || format!("Notifications, {} unread", unread())
                aria-expanded=move || open.get().to_string()>
                "🔔"
                {move || (unread() > 0).then(|| view! { <span class="badge">{unread()}</span> })}
            </button>
            <Show when=move || open.get()>
                <div class="notifications" role="region" aria-label="Notifications">
                    <Transition fallback=|| view! { <p>"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            match list.await {
                                Err(error) => view! { <p role="alert">{error.to_string()}</p> }.into_any(),
                                Ok(list) if list.items.is_empty() => view! { <p class="muted">"No notifications."</p> }.into_any(),
                                Ok(list) => view! {
                                    <ul>
                                        {list.items.into_iter().map(|item| view! {
                                            <li class:unread=!item.read>
                                                <a href=item.link>{item.text}</a>
                                                <span class="muted">" · " {item.created_at}</span>
                                            </li>
                                        }).collect_view()}
                                    </ul>
                                }.into_any(),
                            }
                        })}
                    </Transition>
                </div>
            </Show>
        </div>
    }
}
