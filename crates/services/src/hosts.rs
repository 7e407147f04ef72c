//! Managed hosts and their pinned host keys.

use std::collections::HashMap;

use db::entities::{host, project};
use domain::{AuditKind, HostAddress, HostId, HostRecord, Port, ProjectId, ResourceName};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, QueryOrder};

use crate::audit::switched;
use crate::error::conflict_on_duplicate;
use crate::{Admin, ServiceError, Services};

/// A host's fields as an admin enters them, unparsed.
#[derive(Debug, Clone, Copy)]
pub struct HostForm<'a> {
    pub project_id: ProjectId,
    pub name: &'a str,
    pub address: &'a str,
    pub port: &'a str,
    /// A `SHA256:` fingerprint or an OpenSSH public key line.
    pub host_key: &'a str,
}

/// A host key fetched for the admin to confirm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedHostKey {
    pub algorithm: String,
    pub fingerprint: String,
}

const HOST: AuditKind = AuditKind::HostChanged;

impl Services {
    pub async fn create_host(
        &self,
        admin: Admin,
        form: HostForm<'_>,
    ) -> Result<HostId, ServiceError> {
        let fields = parse_host_form(&form)?;
        self.find_project(admin, form.project_id).await?;
        let created = host::ActiveModel {
            project_id: Set(form.project_id.0),
            name: Set(fields.name.to_string()),
            address: Set(fields.address.into_inner()),
            port: Set(i32::from(fields.port.get())),
            host_key_fingerprint: Set(fields.fingerprint),
            disabled: Set(false),
            created_at: Set(self.now()),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|error| duplicate_host(error, &fields.name))?;
        self.audit_change(admin, HOST, "host", created.id, "created")
            .await;
        Ok(HostId(created.id))
    }

    pub async fn update_host(
        &self,
        admin: Admin,
        id: HostId,
        form: HostForm<'_>,
    ) -> Result<(), ServiceError> {
        let fields = parse_host_form(&form)?;
        self.find_project(admin, form.project_id).await?;
        let mut host: host::ActiveModel = self.find_host(admin, id).await?.into();
        host.project_id = Set(form.project_id.0);
        host.name = Set(fields.name.to_string());
        host.address = Set(fields.address.into_inner());
        host.port = Set(i32::from(fields.port.get()));
        host.host_key_fingerprint = Set(fields.fingerprint);
        host.update(&self.db)
            .await
            .map_err(|error| duplicate_host(error, &fields.name))?;
        self.audit_change(admin, HOST, "host", id, "updated").await;
        Ok(())
    }

    pub async fn set_host_disabled(
        &self,
        admin: Admin,
        id: HostId,
        disabled: bool,
    ) -> Result<(), ServiceError> {
        let mut host: host::ActiveModel = self.find_host(admin, id).await?.into();
        host.disabled = Set(disabled);
        host.update(&self.db).await?;
        self.audit_change(admin, HOST, "host", id, switched(disabled))
            .await;
        Ok(())
    }

    pub async fn list_hosts(&self, _admin: Admin) -> Result<Vec<HostRecord>, ServiceError> {
        let projects: HashMap<i64, String> = project::Entity::find()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|project| (project.id, project.name))
            .collect();
        let hosts = host::Entity::find()
            .order_by_asc(host::Column::Name)
            .all(&self.db)
            .await?;
        Ok(hosts
            .into_iter()
            .map(|host| HostRecord {
                id: HostId(host.id),
                project_id: ProjectId(host.project_id),
                project_name: projects.get(&host.project_id).cloned().unwrap_or_default(),
                name: host.name,
                address: host.address,
                port: u16::try_from(host.port).unwrap_or_default(),
                host_key_fingerprint: host.host_key_fingerprint,
                disabled: host.disabled,
            })
            .collect())
    }

    /// Connects to a host only as far as its key, for the admin to confirm
    /// before pinning it.
    pub async fn fetch_host_key(
        &self,
        _admin: Admin,
        address: &str,
        port: &str,
    ) -> Result<FetchedHostKey, ServiceError> {
        let address = HostAddress::parse(address)?;
        let port = Port::parse(port)?;
        let key = gateway::fetch_host_key(&address, port, self.config.connect_timeout)
            .await
            .map_err(|error| ServiceError::HostUnreachable(error.to_string()))?;
        Ok(FetchedHostKey {
            algorithm: key.algorithm,
            fingerprint: key.fingerprint.into_inner(),
        })
    }

    pub(crate) async fn find_host(
        &self,
        _admin: Admin,
        id: HostId,
    ) -> Result<host::Model, ServiceError> {
        host::Entity::find_by_id(id.0)
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound("host"))
    }
}

struct HostFields {
    name: ResourceName,
    address: HostAddress,
    port: Port,
    fingerprint: String,
}

fn parse_host_form(form: &HostForm<'_>) -> Result<HostFields, ServiceError> {
    Ok(HostFields {
        name: ResourceName::parse(form.name)?,
        address: HostAddress::parse(form.address)?,
        port: Port::parse(form.port)?,
        fingerprint: gateway::parse_pinned_key(form.host_key)?.into_inner(),
    })
}

fn duplicate_host(error: sea_orm::DbErr, name: &ResourceName) -> ServiceError {
    conflict_on_duplicate(
        error,
        format!("this project already has a host named {name}"),
    )
}
