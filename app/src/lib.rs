//! Tandem's web application: the shell, the routes, and the pages with the
//! server functions they call.

// Deeply nested view types (the session page) need more than the default.
#![recursion_limit = "256"]

pub mod admin;
pub mod auth;
pub mod cooperation;
pub mod error;
pub mod host_operations;
pub mod invitation;
pub mod my_sessions;
pub mod notifications;
pub mod player;
pub mod profile;
#[cfg(feature = "ssr")]
pub mod server;
pub mod session_page;
#[cfg(feature = "hydrate")]
mod terminal;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::admin::SessionsPage;
use crate::admin::{
    AuditLogPage, GrantsPage, HostAccountsPage, HostsPage, ProjectsPage, UsersPage,
};
use crate::auth::{LoginPage, NavigationBar, SignedInUser, current_user};
use crate::error::AppError;
use crate::host_operations::HostOperationsPage;
use crate::invitation::{InvitationPage, PendingInvitationPassword};
use crate::my_sessions::MySessionsPage;
use crate::player::{PastSessionsPage, PlayerPage};
use crate::profile::ProfilePage;
use crate::session_page::SessionPage;

/// Where the browser finds the xterm and player modules Tandem serves.
const IMPORT_MAP: &str = r#"{"imports":{"xterm":"/vendor/xterm.mjs","xterm-addon-fit":"/vendor/xterm-addon-fit.mjs","asciinema-player":"/vendor/asciinema-player.mjs"}}"#;

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                // The terminal's bindings import xterm as bare module names;
                // this map must come before any module script.
                <script type="importmap" inner_html=IMPORT_MAP></script>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="stylesheet" href="/vendor/xterm.css"/>
                <link rel="stylesheet" href="/vendor/asciinema-player.css"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The signed-in user, loaded once per page load and shared with every page.
pub type UserResource = Resource<Result<Option<SignedInUser>, AppError>>;

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let user: UserResource = Resource::new(|| (), |_| current_user());
    provide_context(user);
    provide_context(PendingInvitationPassword::default());
    // Effects run only in the browser, once the page is interactive: mark
    // it, so that scripts (and tests) can tell.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    // Every route renders fully before the response starts, so a page can
    // still set its HTTP status (403, 404) from the data it loads.
    view! {
        <Stylesheet id="tandem" href="/pkg/tandem.css"/>
        <Title text="Tandem"/>
        <Router>
            <NavigationBar/>
            <main>
                <Routes fallback=|| view! { <error::ErrorPage error=AppError::NotFound("page".to_owned())/> }>
                    <Route path=path!("/") view=|| view! { <Redirect path="/operation/hosts"/> } ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/operation/hosts") view=HostOperationsPage ssr=SsrMode::Async/>
                    <Route path=path!("/my-sessions") view=MySessionsPage ssr=SsrMode::Async/>
                    <Route path=path!("/sessions/:id") view=SessionPage ssr=SsrMode::Async/>
                    <Route path=path!("/sessions/:id/play") view=PlayerPage ssr=SsrMode::Async/>
                    <Route path=path!("/operation/past-sessions") view=PastSessionsPage ssr=SsrMode::Async/>
                    <Route path=path!("/invite/:code") view=InvitationPage ssr=SsrMode::Async/>
                    <Route path=path!("/profile") view=ProfilePage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users") view=UsersPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/projects") view=ProjectsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/hosts") view=HostsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/host-accounts") view=HostAccountsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/grants") view=GrantsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/sessions") view=SessionsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/audit") view=AuditLogPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}
