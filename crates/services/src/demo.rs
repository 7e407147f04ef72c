//! The built-in demo host in the inventory: project "Demo", host "demo" and
//! an account for the user running Tandem, granted to the first admin when
//! first created.

use db::entities::{host, host_account, project, user};
use domain::{HostAccountId, HostId, ProjectId, UserId};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::{Admin, HostForm, ServiceError, Services};

const PROJECT: &str = "Demo";
const HOST: &str = "demo";

impl Services {
    /// Starts the demo host on 127.0.0.1 (port 0 picks a free one) and
    /// points the inventory at it. Returns the port it listens on.
    pub async fn start_demo_host(&self, port: u16) -> anyhow::Result<u16> {
        let demo = gateway::start_demo_host(&self.config.data_dir, port).await?;
        self.register_demo_host(&demo)
            .await
            .map_err(|error| anyhow::anyhow!("registering the demo host: {error:?}"))?;
        Ok(demo.port)
    }

    async fn register_demo_host(&self, demo: &gateway::DemoHost) -> Result<(), ServiceError> {
        let system = Admin::command_line();
        let port = demo.port.to_string();
        let project = match project::Entity::find()
            .filter(project::Column::Name.eq(PROJECT))
            .one(&self.db)
            .await?
        {
            Some(project) => ProjectId(project.id),
            None => {
                self.create_project(system, PROJECT, "Tandem's built-in demo host, on loopback")
                    .await?
            }
        };
        let form = HostForm {
            project_id: project,
            name: HOST,
            address: "127.0.0.1",
            port: &port,
            host_key: demo.fingerprint.as_str(),
        };
        let existing_host = host::Entity::find()
            .filter(host::Column::ProjectId.eq(project.0))
            .filter(host::Column::Name.eq(HOST))
            .one(&self.db)
            .await?;
        let host = match existing_host {
            Some(host) => {
                self.update_host(system, HostId(host.id), form).await?;
                HostId(host.id)
            }
            None => self.create_host(system, form).await?,
        };
        let login = demo.login.as_str();
        let existing_account = host_account::Entity::find()
            .filter(host_account::Column::HostId.eq(host.0))
            .filter(host_account::Column::Login.eq(login))
            .one(&self.db)
            .await?;
        match existing_account {
            Some(account) => {
                let id = HostAccountId(account.id);
                self.update_host_account(system, id, login, "private_key", &demo.client_key)
                    .await
            }
            None => {
                let account = self
                    .create_host_account(system, host, login, "private_key", &demo.client_key)
                    .await?;
                self.grant_to_first_admin(account).await
            }
        }
    }

    async fn grant_to_first_admin(&self, account: HostAccountId) -> Result<(), ServiceError> {
        let first_admin = user::Entity::find()
            .filter(user::Column::Role.eq("admin"))
            .filter(user::Column::Disabled.eq(false))
            .one(&self.db)
            .await?;
        if let Some(admin) = first_admin {
            self.create_grant(Admin::command_line(), UserId(admin.id), account)
                .await?;
        }
        Ok(())
    }
}
