//! The Share Session dialog: search users (in the session's project, or
//! everyone after the owner confirms their password), add them, a note,
//! Share; and the Session Use dialog when anyone added is outside the
//! project.

use domain::UserMatch;
use leptos::prelude::*;

use super::{search_users, share_with_users};
use crate::error::form_error;

/// What the Share button sends.
#[derive(Clone)]
struct ShareRequest {
    users: Vec<UserMatch>,
    note: String,
    session_use: Option<(String, String, String)>,
    password: String,
}

#[component]
pub fn ShareSessionDialog(
    session_id: i64,
    title: String,
    open: RwSignal<Option<(i64, String)>>,
    changed: RwSignal<u32>,
) -> impl IntoView {
    let query = RwSignal::new(String::new());
    let search_all = RwSignal::new(false);
    let asking_password = RwSignal::new(false);
    let typed_password = RwSignal::new(String::new());
    // The owner's password once a search with it succeeded.
    let confirmed_password = RwSignal::new(String::new());
    let added = RwSignal::new(Vec::<UserMatch>::new());
    let note = RwSignal::new(String::new());
    let asking_use = RwSignal::new(false);
    let purpose = RwSignal::new(String::new());
    let customer = RwSignal::new(String::new());
    let comment = RwSignal::new(String::new());

    let search = Action::new(move |(query, password): &(String, String)| {
        let password = (!password.is_empty()).then(|| password.clone());
        search_users(session_id, query.clone(), password)
    });
    let confirm = Action::new(move |password: &String| {
        search_users(session_id, String::new(), Some(password.clone()))
    });
    Effect::new(move |_| match confirm.value().get() {
        Some(Ok(_)) => {
            confirmed_password.set(typed_password.get_untracked());
            search_all.set(true);
            asking_password.set(false);
        }
        Some(Err(_)) => search_all.set(false),
        None => {}
    });
    let share = Action::new(move |request: &ShareRequest| {
        let request = request.clone();
        let (purpose, customer, comment) = request.session_use.unwrap_or_default();
        let users = request
            .users
            .iter()
            .map(|user| user.id.0.to_string())
            .collect::<Vec<_>>()
            .join(",");
        share_with_users(
            session_id,
            users,
            request.note,
            Some(purpose),
            Some(customer),
            Some(comment),
            Some(request.password),
        )
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = share.value().get() {
            open.set(None);
            changed.update(|count| *count += 1);
        }
    });

    let run_search = move || {
        let password = match search_all.get_untracked() {
            true => confirmed_password.get_untracked(),
            false => String::new(),
        };
        search.dispatch((query.get_untracked(), password));
    };
    let toggle_all = move |ev: leptos::ev::Event| match event_target_checked(&ev) {
        true => asking_password.set(true),
        false => {
            search_all.set(false);
            confirmed_password.set(String::new());
        }
    };
    let outside = move || added.with(|added| added.iter().any(|user| !user.in_project));
    let send = move |session_use: Option<(String, String, String)>| {
        share.dispatch(ShareRequest {
            users: added.get_untracked(),
            note: note.get_untracked(),
            session_use,
            password: confirmed_password.get_untracked(),
        });
    };
    let results = move || {
        search.value().get().map(|result| match result {
            Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
            Ok(found) if found.is_empty() => view! { <p class="muted">"No users found."</p> }.into_any(),
            Ok(found) => view! {
                <ul class="user-results" aria-label="Users found">
                    {found.into_iter().map(|user| {
                        let label = user_label(&user);
                        let add = user.clone();
                        let is_added = move || added.with(|added| added.iter().any(|added| added.id == add.id));
                        let to_add = user.clone();
                        view! {
                            <li>
                                {label}
                                <button type="button" aria-label=format!("Add {}", user.username)
                                    disabled=is_added
                                    on:click=move |_| added.update(|added| added.push(to_add.clone()))>
                                    "Add"
                                </button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any(),
        })
    };
    view! {
        <div class="share-dialog" role="dialog" aria-label="Share Session">
            <h2>"Share Session"</h2>
            <p class="muted">{title}</p>
            <form on:submit=move |ev| { ev.prevent_default(); run_search(); }>
                <label>"Search users"
                    <input bind:value=query placeholder="user ID, name or email"/>
                </label>
                <button type="submit">"Search"</button>
                <label class="check">
                    <input type="checkbox" prop:checked=move || search_all.get() on:change=toggle_all/>
                    "Search all users"
                </label>
            </form>
            <Show when=move || asking_password.get()>
                <div class="password-prompt" role="dialog" aria-label="Confirm your password">
                    <p>"Searching all users, outside this session's project, needs your password."</p>
                    <form on:submit=move |ev| { ev.prevent_default(); confirm.dispatch(typed_password.get_untracked()); }>
                        <label>"Your password"
                            <input type="password" autocomplete="current-password" bind:value=typed_password/>
                        </label>
                        <button type="submit">"Confirm"</button>
                        <button type="button" class="secondary" on:click=move |_| asking_password.set(false)>"Cancel"</button>
                    </form>
                    {form_error(confirm.value())}
                </div>
            </Show>
            {results}
            <h3>"Added users"</h3>
            <ul class="added-users" aria-label="Added users">
                {move || added.get().into_iter().map(|user| {
                    let id = user.id;
                    view! {
                        <li>
                            {user_label(&user)}
                            <button type="button" class="secondary" aria-label=format!("Take off {}", user.username)
                                on:click=move |_| added.update(|added| added.retain(|added| added.id != id))>
                                "Take off"
                            </button>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <label>"Notes"
                <textarea bind:value=note rows="3" placeholder="Included in the email to added users"></textarea>
            </label>
            <div class="actions">
                <button type="button"
                    disabled=move || added.with(Vec::is_empty)
                    on:click=move |_| match outside() {
                        true => asking_use.set(true),
                        false => send(None),
                    }>
                    "Share"
                </button>
                <button type="button" class="secondary" on:click=move |_| open.set(None)>"Close"</button>
            </div>
            {form_error(share.value())}
            <Show when=move || asking_use.get()>
                <div class="session-use" role="dialog" aria-label="Session Use">
                    <h3>"Session Use"</h3>
                    <p>"Some added users are outside this session's project. Tell us why they need it."</p>
                    <form on:submit=move |ev| {
                        ev.prevent_default();
                        send(Some((purpose.get_untracked(), customer.get_untracked(), comment.get_untracked())));
                    }>
                        <label>"Purpose" <input bind:value=purpose required/></label>
                        <label>"Customer or organisation" <input bind:value=customer required/></label>
                        <label>"Comment" <textarea bind:value=comment rows="2"></textarea></label>
                        <button type="submit">"Share"</button>
                        <button type="button" class="secondary" on:click=move |_| asking_use.set(false)>"Back"</button>
                    </form>
                </div>
            </Show>
        </div>
    }
    .into_any()
}

fn user_label(user: &UserMatch) -> String {
    let place = match user.in_project {
        true => "",
        false => " · outside the project",
    };
    format!("{} ({}){place}", user.display_name, user.username)
}
