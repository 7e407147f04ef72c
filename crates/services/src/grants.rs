//! Grants of host accounts to users, and what a user may therefore use.

use db::entities::{grant, host, host_account, project};
use domain::{
    AuditKind, GrantId, GrantRecord, GrantedAccount, HostAccountId, HostId, ProjectId, UserId,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};

use crate::error::conflict_on_duplicate;
use crate::{Actor, Admin, ServiceError, Services};

const GRANT: AuditKind = AuditKind::GrantChanged;

impl Services {
    pub async fn create_grant(
        &self,
        admin: Admin,
        user_id: UserId,
        host_account_id: HostAccountId,
    ) -> Result<GrantId, ServiceError> {
        let user = self.find_user(admin, user_id).await?;
        self.find_host_account(admin, host_account_id).await?;
        let created = grant::ActiveModel {
            user_id: Set(user_id.0),
            host_account_id: Set(host_account_id.0),
            created_at: Set(self.now()),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|error| {
            conflict_on_duplicate(
                error,
                format!("{} already has this host account", user.username),
            )
        })?;
        self.audit_change(admin, GRANT, "grant", created.id, "created")
            .await;
        Ok(GrantId(created.id))
    }

    pub async fn revoke_grant(&self, admin: Admin, id: GrantId) -> Result<(), ServiceError> {
        let result = grant::Entity::delete_by_id(id.0).exec(&self.db).await?;
        if result.rows_affected == 0 {
            return Err(ServiceError::NotFound("grant"));
        }
        self.audit_change(admin, GRANT, "grant", id, "revoked")
            .await;
        Ok(())
    }

    pub async fn list_grants(&self, admin: Admin) -> Result<Vec<GrantRecord>, ServiceError> {
        let users = self.list_users(admin).await?;
        let accounts = self.list_host_accounts(admin).await?;
        let grants = grant::Entity::find()
            .order_by_asc(grant::Column::Id)
            .all(&self.db)
            .await?;
        Ok(grants
            .into_iter()
            .map(|grant| {
                let username = users
                    .iter()
                    .find(|user| user.id.0 == grant.user_id)
                    .map(|user| user.username.clone())
                    .unwrap_or_default();
                let host_account_label = accounts
                    .iter()
                    .find(|account| account.id.0 == grant.host_account_id)
                    .map(|account| {
                        format!(
                            "{}@{} ({})",
                            account.login, account.host_name, account.project_name
                        )
                    })
                    .unwrap_or_default();
                GrantRecord {
                    id: GrantId(grant.id),
                    user_id: UserId(grant.user_id),
                    username,
                    host_account_id: HostAccountId(grant.host_account_id),
                    host_account_label,
                }
            })
            .collect())
    }

    /// The host accounts the actor may use now: granted, and with the
    /// account, its host and its project all enabled.
    pub async fn granted_accounts(
        &self,
        actor: &Actor,
    ) -> Result<Vec<GrantedAccount>, ServiceError> {
        let account_ids: Vec<i64> = grant::Entity::find()
            .filter(grant::Column::UserId.eq(actor.id.0))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|grant| grant.host_account_id)
            .collect();
        let accounts = host_account::Entity::find()
            .filter(host_account::Column::Id.is_in(account_ids))
            .filter(host_account::Column::Disabled.eq(false))
            .find_also_related(host::Entity)
            .all(&self.db)
            .await?;
        let projects = project::Entity::find()
            .filter(project::Column::Disabled.eq(false))
            .all(&self.db)
            .await?;
        let mut granted: Vec<GrantedAccount> = accounts
            .into_iter()
            .filter_map(|(account, host)| {
                let host = host.filter(|host| !host.disabled)?;
                let project = projects
                    .iter()
                    .find(|project| project.id == host.project_id)?;
                Some(GrantedAccount {
                    host_account_id: HostAccountId(account.id),
                    project_id: ProjectId(project.id),
                    project_name: project.name.clone(),
                    host_id: HostId(host.id),
                    host_name: host.name,
                    address: host.address,
                    port: u16::try_from(host.port).unwrap_or_default(),
                    login: account.login,
                })
            })
            .collect();
        granted.sort_by(|a, b| {
            (&a.project_name, &a.host_name, &a.login).cmp(&(
                &b.project_name,
                &b.host_name,
                &b.login,
            ))
        });
        Ok(granted)
    }

    /// Whether the actor may use the account; a no is not audited, so the
    /// caller can record it in its own terms.
    pub(crate) async fn holds_grant(
        &self,
        actor: &Actor,
        id: HostAccountId,
    ) -> Result<bool, ServiceError> {
        Ok(self
            .granted_accounts(actor)
            .await?
            .iter()
            .any(|account| account.host_account_id == id))
    }

    /// The account the actor asks to log in with: `NotFound` when no such
    /// usable account exists, `Forbidden` when it exists but is not theirs.
    pub async fn granted_account(
        &self,
        actor: &Actor,
        id: HostAccountId,
    ) -> Result<GrantedAccount, ServiceError> {
        if host_account::Entity::find_by_id(id.0)
            .one(&self.db)
            .await?
            .is_none()
        {
            return Err(ServiceError::NotFound("host account"));
        }
        let granted = self
            .granted_accounts(actor)
            .await?
            .into_iter()
            .find(|account| account.host_account_id == id);
        match granted {
            Some(account) => Ok(account),
            None => {
                let object = format!("host_account:{id}");
                Err(self.deny(actor, object, ServiceError::Forbidden).await)
            }
        }
    }
}
