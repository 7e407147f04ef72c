//! Host accounts: logins on managed hosts, their secrets sealed at rest.

use db::entities::host_account;
use domain::{AccountLogin, AuditKind, HostAccountId, HostAccountRecord, HostId, SecretKind};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, QueryOrder};

use crate::audit::switched;
use crate::error::conflict_on_duplicate;
use crate::{Admin, ServiceError, Services};

const ACCOUNT: AuditKind = AuditKind::HostAccountChanged;

impl Services {
    pub async fn create_host_account(
        &self,
        admin: Admin,
        host_id: HostId,
        login: &str,
        secret_kind: &str,
        secret: &str,
    ) -> Result<HostAccountId, ServiceError> {
        let login = AccountLogin::parse(login)?;
        let kind = SecretKind::parse(secret_kind)?;
        let sealed = self.seal_secret(kind, secret)?;
        let host = self.find_host(admin, host_id).await?;
        let created = host_account::ActiveModel {
            host_id: Set(host.id),
            login: Set(login.to_string()),
            secret_kind: Set(kind.as_str().to_owned()),
            secret_sealed: Set(sealed),
            disabled: Set(false),
            created_at: Set(self.now()),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|error| duplicate_account(error, &login))?;
        self.audit_change(admin, ACCOUNT, "host_account", created.id, "created")
            .await;
        Ok(HostAccountId(created.id))
    }

    /// Changes the login, and the secret when `secret` is not empty: a saved
    /// secret is never shown again, only replaced.
    pub async fn update_host_account(
        &self,
        admin: Admin,
        id: HostAccountId,
        login: &str,
        secret_kind: &str,
        secret: &str,
    ) -> Result<(), ServiceError> {
        let login = AccountLogin::parse(login)?;
        let replacement = match secret {
            "" => None,
            given => {
                let kind = SecretKind::parse(secret_kind)?;
                Some((kind, self.seal_secret(kind, given)?))
            }
        };
        let mut account: host_account::ActiveModel =
            self.find_host_account(admin, id).await?.into();
        account.login = Set(login.to_string());
        if let Some((kind, sealed)) = replacement {
            account.secret_kind = Set(kind.as_str().to_owned());
            account.secret_sealed = Set(sealed);
        }
        account
            .update(&self.db)
            .await
            .map_err(|error| duplicate_account(error, &login))?;
        self.audit_change(admin, ACCOUNT, "host_account", id, "updated")
            .await;
        Ok(())
    }

    pub async fn set_host_account_disabled(
        &self,
        admin: Admin,
        id: HostAccountId,
        disabled: bool,
    ) -> Result<(), ServiceError> {
        let mut account: host_account::ActiveModel =
            self.find_host_account(admin, id).await?.into();
        account.disabled = Set(disabled);
        account.update(&self.db).await?;
        self.audit_change(admin, ACCOUNT, "host_account", id, switched(disabled))
            .await;
        Ok(())
    }

    pub async fn list_host_accounts(
        &self,
        admin: Admin,
    ) -> Result<Vec<HostAccountRecord>, ServiceError> {
        let hosts = self.list_hosts(admin).await?;
        let accounts = host_account::Entity::find()
            .order_by_asc(host_account::Column::Login)
            .all(&self.db)
            .await?;
        accounts
            .into_iter()
            .map(|account| {
                let host = hosts.iter().find(|host| host.id.0 == account.host_id);
                Ok(HostAccountRecord {
                    id: HostAccountId(account.id),
                    host_id: HostId(account.host_id),
                    host_name: host.map(|host| host.name.clone()).unwrap_or_default(),
                    project_name: host
                        .map(|host| host.project_name.clone())
                        .unwrap_or_default(),
                    secret_kind: stored_kind(&account)?,
                    login: account.login,
                    disabled: account.disabled,
                })
            })
            .collect()
    }

    pub(crate) async fn find_host_account(
        &self,
        _admin: Admin,
        id: HostAccountId,
    ) -> Result<host_account::Model, ServiceError> {
        host_account::Entity::find_by_id(id.0)
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound("host account"))
    }

    fn seal_secret(&self, kind: SecretKind, secret: &str) -> Result<Vec<u8>, ServiceError> {
        match kind {
            SecretKind::Password if secret.is_empty() => {
                return Err(domain::ValidationError::new("secret", "must not be empty").into());
            }
            SecretKind::Password => {}
            SecretKind::PrivateKey => gateway::check_private_key(secret)?,
        }
        self.secrets
            .seal(secret.as_bytes())
            .map_err(ServiceError::Internal)
    }
}

fn stored_kind(account: &host_account::Model) -> Result<SecretKind, ServiceError> {
    SecretKind::parse(&account.secret_kind).map_err(|error| ServiceError::Internal(error.into()))
}

fn duplicate_account(error: sea_orm::DbErr, login: &AccountLogin) -> ServiceError {
    conflict_on_duplicate(error, format!("this host already has an account {login}"))
}
