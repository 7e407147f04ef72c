//! Signing in and out, and the navigation bar that shows who is signed in.

use domain::Role;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use serde::{Deserialize, Serialize};

use crate::UserResource;
use crate::error::{AppError, form_error};
use crate::notifications::NotificationBell;

/// What the browser knows of the signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedInUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
}

#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<SignedInUser>, AppError> {
    match crate::server::current_actor().await {
        Ok(actor) => Ok(Some(SignedInUser {
            username: actor.username,
            display_name: actor.display_name,
            role: actor.role,
        })),
        Err(AppError::NotSignedIn) => Ok(None),
        Err(error) => Err(error),
    }
}

#[server(endpoint = "login")]
pub async fn login(username: String, password: String) -> Result<(), AppError> {
    use crate::server;
    let address = server::client_address().await?;
    let services = server::services()?;
    let actor = services.log_in(&username, &password, address).await?;
    Ok(services
        .sign_in(&server::web_session().await?, &actor)
        .await?)
}

#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    let session = crate::server::web_session().await?;
    let actor = match crate::server::current_actor().await {
        Ok(actor) => Some(actor),
        Err(AppError::NotSignedIn) => None,
        Err(error) => return Err(error),
    };
    Ok(crate::server::services()?
        .sign_out(&session, actor.as_ref())
        .await?)
}

/// Replaces the page, so every resource (the signed-in user first) is loaded
/// afresh after signing in or out.
pub(crate) fn reload_at(path: &str) {
    if let Err(error) = window().location().set_href(path) {
        leptos::logging::error!("navigation failed: {error:?}");
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let user = expect_context::<UserResource>();
    let login = ServerAction::<Login>::new();
    let query = leptos_router::hooks::use_query_map();
    let next = move || {
        query
            .with_untracked(|query| query.get("next"))
            .filter(|next| crate::error::is_plain_path(next))
            .unwrap_or_else(|| "/operation/hosts".to_owned())
    };
    Effect::new(move |_| {
        if let Some(Ok(())) = login.value().get() {
            reload_at(&next());
        }
    });
    view! {
        <Title text="Sign in · Tandem"/>
        <Suspense>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(_)) => view! { <Redirect path=next()/> }.into_any(),
                    _ => view! {
                        <section class="login">
                            <h1>"Sign in to Tandem"</h1>
                            <ActionForm action=login>
                                <label>"Username" <input name="username" autocomplete="username" required/></label>
                                <label>"Password" <input name="password" type="password" autocomplete="current-password" required/></label>
                                <button type="submit">"Sign in"</button>
                            </ActionForm>
                            {form_error(login.value())}
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn NavigationBar() -> impl IntoView {
    let user = expect_context::<UserResource>();
    let logout = ServerAction::<Logout>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = logout.value().get() {
            reload_at("/login");
        }
    });
    view! {
        <header class="top">
            <a class="brand" href="/operation/hosts">"Tandem"</a>
            <Suspense>
                {move || Suspend::new(async move {
                    user.await.ok().flatten().map(|user| view! {
                        <nav aria-label="Main">
                            <span class="menu">"My Dashboard"</span>
                            <a href="/my-sessions">"My Sessions"</a>
                            <span class="menu">"Operation"</span>
                            <a href="/operation/hosts">"Host Operations"</a>
                            <a href="/operation/past-sessions">"Past sessions"</a>
                            {(user.role == Role::Admin).then(|| view! {
                                <span class="menu">"Administration"</span>
                                <a href="/admin/users">"Users"</a>
                                <a href="/admin/projects">"Projects"</a>
                                <a href="/admin/hosts">"Hosts"</a>
                                <a href="/admin/host-accounts">"Host accounts"</a>
                                <a href="/admin/grants">"Grants"</a>
                                <a href="/admin/sessions">"Sessions"</a>
                                <a href="/admin/audit">"Audit log"</a>
                            })}
                        </nav>
                        <div class="who">
                            <NotificationBell/>
                            <a href="/profile" aria-label="Profile">{user.display_name} " (" {user.username} ")"</a>
                            <ActionForm action=logout>
                                <button type="submit">"Log out"</button>
                            </ActionForm>
                        </div>
                    })
                })}
            </Suspense>
        </header>
    }
}
