//! Users: sign-in, the first admin, and the admin's user management.

use std::net::IpAddr;
use std::time::Instant;

use db::entities::user;
use domain::{
    AuditKind, DisplayName, EmailAddress, NewPassword, Role, TypedLoginName, UserId, UserName,
    UserRecord,
};
use rand::Rng;
use rand::distributions::Alphanumeric;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};

use crate::audit::{AuditEntry, switched};
use crate::error::conflict_on_duplicate;
use crate::{Actor, Admin, ServiceError, Services, passwords};

/// The account created at first start.
#[derive(Debug)]
pub struct FirstAdmin {
    pub username: String,
    /// Printed once; `None` when it came from configuration.
    pub generated_password: Option<String>,
}

impl Services {
    pub(crate) async fn ensure_first_admin(&self) -> Result<Option<FirstAdmin>, ServiceError> {
        if user::Entity::find().count(&self.db).await? > 0 {
            return Ok(None);
        }
        let (password, generated) = match &self.config.admin_password {
            Some(password) => (password.clone(), false),
            None => {
                let password: String = rand::thread_rng()
                    .sample_iter(&Alphanumeric)
                    .take(20)
                    .map(char::from)
                    .collect();
                (password, true)
            }
        };
        self.create_user(
            Admin::command_line(),
            "admin",
            "Administrator",
            "admin",
            &password,
        )
        .await?;
        Ok(Some(FirstAdmin {
            username: "admin".to_owned(),
            generated_password: generated.then_some(password),
        }))
    }

    /// Checks a user name and password. Every failure, including too many
    /// recent attempts for the account or from the address, is the same
    /// `LoginFailed`.
    pub async fn log_in(
        &self,
        username: &str,
        password: &str,
        address: IpAddr,
    ) -> Result<Actor, ServiceError> {
        let typed = TypedLoginName::new(username);
        let account_key = typed.as_str();
        let address_key = address.to_string();
        let allowed = self
            .login_limiter
            .lock()
            .map(|limiter| limiter.allows(account_key, &address_key, Instant::now()))
            .unwrap_or(false);
        let found = match typed.account() {
            Some(name) => {
                user::Entity::find()
                    .filter(user::Column::Username.eq(name.as_str()))
                    .one(&self.db)
                    .await?
            }
            None => None,
        };
        let hash = found
            .as_ref()
            .map_or(passwords::DECOY_HASH.to_owned(), |user| {
                user.password_hash.clone()
            });
        let password_ok = passwords::verify(password.to_owned(), hash).await?;
        let user = match found {
            Some(user) if allowed && password_ok && !user.disabled => user,
            _ => {
                if let Ok(mut limiter) = self.login_limiter.lock() {
                    limiter.record_failure(account_key, &address_key, Instant::now());
                }
                tracing::info!(username = %account_key, %address, "failed login");
                let entry =
                    AuditEntry::anonymous(account_key, Some(address), AuditKind::LoginFailed);
                self.audit(entry.denied()).await;
                return Err(ServiceError::LoginFailed);
            }
        };
        if let Ok(mut limiter) = self.login_limiter.lock() {
            limiter.record_success(account_key);
        }
        tracing::info!(username = %user.username, %address, "login");
        let actor = actor_from(user)?.with_address(address);
        self.audit(AuditEntry::by(&actor, AuditKind::Login)).await;
        Ok(actor)
    }

    /// The signed-in user behind a web session, if still enabled.
    pub async fn actor(&self, id: UserId) -> Result<Option<Actor>, ServiceError> {
        match user::Entity::find_by_id(id.0).one(&self.db).await? {
            Some(user) if !user.disabled => actor_from(user).map(Some),
            _ => Ok(None),
        }
    }

    pub async fn create_user(
        &self,
        admin: Admin,
        username: &str,
        display_name: &str,
        role: &str,
        password: &str,
    ) -> Result<UserId, ServiceError> {
        let username = UserName::parse(username)?;
        let display_name = DisplayName::parse(display_name)?;
        let role = Role::parse(role)?;
        let password = NewPassword::parse(password)?;
        let password_hash = passwords::hash(password.expose().to_owned()).await?;
        let created = user::ActiveModel {
            username: Set(username.to_string()),
            display_name: Set(display_name.into_inner()),
            role: Set(role.as_str().to_owned()),
            password_hash: Set(password_hash),
            disabled: Set(false),
            created_at: Set(self.now()),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|error| {
            conflict_on_duplicate(error, format!("a user named {username} already exists"))
        })?;
        self.audit_change(admin, AuditKind::UserChanged, "user", created.id, "created")
            .await;
        Ok(UserId(created.id))
    }

    /// Changes a user's display name and role, and their password when
    /// `new_password` is not empty. An admin cannot demote themselves, so
    /// Tandem always keeps an admin.
    pub async fn update_user(
        &self,
        admin: Admin,
        actor: &Actor,
        id: UserId,
        display_name: &str,
        role: &str,
        new_password: &str,
    ) -> Result<(), ServiceError> {
        let display_name = DisplayName::parse(display_name)?;
        let role = Role::parse(role)?;
        let password = match new_password {
            "" => None,
            given => Some(NewPassword::parse(given)?),
        };
        if id == actor.id && role != Role::Admin {
            return Err(ServiceError::Conflict(
                "you cannot remove your own admin role".to_owned(),
            ));
        }
        let mut user: user::ActiveModel = self.find_user(admin, id).await?.into();
        user.display_name = Set(display_name.into_inner());
        user.role = Set(role.as_str().to_owned());
        if let Some(password) = password {
            user.password_hash = Set(passwords::hash(password.expose().to_owned()).await?);
        }
        user.update(&self.db).await?;
        self.audit_change(admin, AuditKind::UserChanged, "user", id, "updated")
            .await;
        Ok(())
    }

    /// A disabled user cannot sign in, and their open web sessions stop
    /// working at their next request.
    pub async fn set_user_disabled(
        &self,
        admin: Admin,
        actor: &Actor,
        id: UserId,
        disabled: bool,
    ) -> Result<(), ServiceError> {
        if id == actor.id && disabled {
            return Err(ServiceError::Conflict(
                "you cannot disable your own account".to_owned(),
            ));
        }
        let mut user: user::ActiveModel = self.find_user(admin, id).await?.into();
        user.disabled = Set(disabled);
        user.update(&self.db).await?;
        self.audit_change(
            admin,
            AuditKind::UserChanged,
            "user",
            id,
            switched(disabled),
        )
        .await;
        Ok(())
    }

    /// An admin sets a user's email address; empty removes it.
    pub async fn set_user_email(
        &self,
        admin: Admin,
        id: UserId,
        email: &str,
    ) -> Result<(), ServiceError> {
        self.find_user(admin, id).await?;
        self.store_email(id, email).await?;
        self.audit_change(admin, AuditKind::UserChanged, "user", id, "email")
            .await;
        Ok(())
    }

    /// A user sets their own email address on their profile.
    pub async fn set_own_email(&self, actor: &Actor, email: &str) -> Result<(), ServiceError> {
        self.store_email(actor.id, email).await
    }

    pub async fn own_email(&self, actor: &Actor) -> Result<Option<String>, ServiceError> {
        Ok(user::Entity::find_by_id(actor.id.0)
            .one(&self.db)
            .await?
            .and_then(|user| user.email))
    }

    async fn store_email(&self, id: UserId, email: &str) -> Result<(), ServiceError> {
        let email = match email.trim() {
            "" => None,
            given => Some(EmailAddress::parse(given)?.into_inner()),
        };
        user::ActiveModel {
            id: Set(id.0),
            email: Set(email),
            ..Default::default()
        }
        .update(&self.db)
        .await?;
        Ok(())
    }

    pub async fn list_users(&self, _admin: Admin) -> Result<Vec<UserRecord>, ServiceError> {
        let users = user::Entity::find()
            .order_by_asc(user::Column::Username)
            .all(&self.db)
            .await?;
        users.into_iter().map(user_record).collect()
    }

    pub(crate) async fn find_user(
        &self,
        _admin: Admin,
        id: UserId,
    ) -> Result<user::Model, ServiceError> {
        user::Entity::find_by_id(id.0)
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound("user"))
    }

    /// Looks a user up by name, for the command line.
    pub async fn user_id_by_name(&self, username: &str) -> Result<UserId, ServiceError> {
        user::Entity::find()
            .filter(user::Column::Username.eq(username.trim()))
            .one(&self.db)
            .await?
            .map(|user| UserId(user.id))
            .ok_or(ServiceError::NotFound("user"))
    }
}

fn stored_role(user: &user::Model) -> Result<Role, ServiceError> {
    Role::parse(&user.role).map_err(|error| ServiceError::Internal(error.into()))
}

pub(crate) fn actor_from(user: user::Model) -> Result<Actor, ServiceError> {
    Ok(Actor {
        id: UserId(user.id),
        role: stored_role(&user)?,
        username: user.username,
        display_name: user.display_name,
        address: None,
    })
}

fn user_record(user: user::Model) -> Result<UserRecord, ServiceError> {
    Ok(UserRecord {
        id: UserId(user.id),
        role: stored_role(&user)?,
        username: user.username,
        display_name: user.display_name,
        email: user.email,
        disabled: user.disabled,
    })
}
