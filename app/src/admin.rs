//! The admin's pages: users, projects, hosts, host accounts and grants.
//! Every server function here asks for the admin role itself; hiding the
//! links from operators is only a courtesy.

mod audit;
mod grants;
mod host_accounts;
mod hosts;
mod projects;
mod sessions;
mod users;

pub use audit::AuditLogPage;
pub use grants::GrantsPage;
pub use host_accounts::HostAccountsPage;
pub use hosts::HostsPage;
pub use projects::ProjectsPage;
pub use sessions::SessionsPage;
pub use users::UsersPage;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The kinds of object an admin can disable and enable again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disableable {
    User,
    Project,
    Host,
    HostAccount,
}

impl Disableable {
    fn as_str(self) -> &'static str {
        match self {
            Disableable::User => "user",
            Disableable::Project => "project",
            Disableable::Host => "host",
            Disableable::HostAccount => "host_account",
        }
    }
}

#[server(endpoint = "admin/set_disabled")]
pub async fn set_disabled(kind: Disableable, id: i64, disabled: bool) -> Result<(), AppError> {
    use domain::{HostAccountId, HostId, ProjectId, UserId};
    let (actor, admin) = crate::server::current_admin().await?;
    let services = crate::server::services()?;
    match kind {
        Disableable::User => {
            services
                .set_user_disabled(admin, &actor, UserId(id), disabled)
                .await
        }
        Disableable::Project => {
            services
                .set_project_disabled(admin, ProjectId(id), disabled)
                .await
        }
        Disableable::Host => {
            services
                .set_host_disabled(admin, HostId(id), disabled)
                .await
        }
        Disableable::HostAccount => {
            services
                .set_host_account_disabled(admin, HostAccountId(id), disabled)
                .await
        }
    }?;
    Ok(())
}

/// The status cell and its Disable / Enable button.
#[component]
fn StatusToggle(
    action: ServerAction<SetDisabled>,
    kind: Disableable,
    id: i64,
    disabled: bool,
) -> impl IntoView {
    view! {
        <span class=if disabled { "status off" } else { "status on" }>
            {if disabled { "Disabled" } else { "Enabled" }}
        </span>
        <ActionForm action>
            <input type="hidden" name="kind" value=kind.as_str()/>
            <input type="hidden" name="id" value=id/>
            <input type="hidden" name="disabled" value=(!disabled).to_string()/>
            <button type="submit">{if disabled { "Enable" } else { "Disable" }}</button>
        </ActionForm>
    }
}
