//! API tokens: created and revoked by their owner on the profile page, and
//! turned back into their owner by the REST API.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use db::entities::{api_token, user};
use domain::{
    API_TOKEN_BYTES, ApiTokenId, ApiTokenRecord, ApiTokenSecret, ApiTokenStatus, AuditKind,
    NewApiToken,
};
use rand::RngCore;
use rand::rngs::OsRng;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};
use sha2::{Digest, Sha256};

use crate::audit::AuditEntry;
use crate::{Actor, ServiceError, Services, users::actor_from};

/// Why a token did not authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRejection {
    /// Not a token Tandem issued (or not even shaped like one).
    Unknown,
    Revoked,
    Expired,
    /// The token's user is disabled.
    UserDisabled,
}

impl TokenRejection {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenRejection::Unknown => "unknown token",
            TokenRejection::Revoked => "revoked token",
            TokenRejection::Expired => "expired token",
            TokenRejection::UserDisabled => "disabled user",
        }
    }
}

impl Services {
    /// Creates a token for the actor; the secret is in the answer and
    /// nowhere else.
    pub async fn create_api_token(
        &self,
        actor: &Actor,
        name: &str,
        expires_in_days: Option<u32>,
    ) -> Result<NewApiToken, ServiceError> {
        let name = domain::api_token_name(name)?;
        let mut bytes = [0u8; API_TOKEN_BYTES];
        OsRng.fill_bytes(&mut bytes);
        let secret = ApiTokenSecret::from_bytes(bytes);
        let now = self.now();
        let row = api_token::ActiveModel {
            user_id: Set(actor.id.0),
            name: Set(name),
            prefix: Set(secret.shown_prefix()),
            secret_hash: Set(secret_hash(&secret)),
            created_at: Set(now),
            expires_at: Set(
                expires_in_days.map(|days| now + chrono::Duration::days(i64::from(days)))
            ),
            last_used_at: Set(None),
            revoked_at: Set(None),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        tracing::info!(user = %actor.username, token = row.id, "API token created");
        let entry = AuditEntry::by(actor, AuditKind::ApiTokenCreated);
        self.audit(entry.object("api_token", row.id)).await;
        Ok(NewApiToken {
            token: token_record(row, now),
            secret: secret.as_str().to_owned(),
        })
    }

    /// The actor's own tokens, newest first.
    pub async fn api_tokens(&self, actor: &Actor) -> Result<Vec<ApiTokenRecord>, ServiceError> {
        let now = self.now();
        Ok(api_token::Entity::find()
            .filter(api_token::Column::UserId.eq(actor.id.0))
            .order_by_desc(api_token::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| token_record(row, now))
            .collect())
    }

    /// Revokes one of the actor's own tokens; another user's is `NotFound`.
    pub async fn revoke_api_token(
        &self,
        actor: &Actor,
        id: ApiTokenId,
    ) -> Result<(), ServiceError> {
        let row = api_token::Entity::find_by_id(id.0)
            .filter(api_token::Column::UserId.eq(actor.id.0))
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound("API token"))?;
        if row.revoked_at.is_none() {
            api_token::ActiveModel {
                id: Set(row.id),
                revoked_at: Set(Some(self.now())),
                ..Default::default()
            }
            .update(&self.db)
            .await?;
            tracing::info!(user = %actor.username, token = row.id, "API token revoked");
            let entry = AuditEntry::by(actor, AuditKind::ApiTokenRevoked);
            self.audit(entry.object("api_token", row.id)).await;
        }
        Ok(())
    }

    /// The enabled user a token acts for, with exactly their permissions,
    /// for a request from `address`. Records the use, or the refusal.
    pub async fn token_actor(
        &self,
        secret: &str,
        address: Option<IpAddr>,
    ) -> Result<Actor, ServiceError> {
        match self.authenticate_token(secret).await {
            Ok((actor, token)) => {
                let actor = Actor { address, ..actor };
                let entry = AuditEntry::by(&actor, AuditKind::ApiTokenUsed);
                self.audit(entry.object("api_token", token)).await;
                Ok(actor)
            }
            Err(ServiceError::Unauthenticated(why)) => {
                let entry = AuditEntry::anonymous("", address, AuditKind::AccessDenied);
                let entry = entry.object("api", "v2").denied();
                self.audit(entry.detail(why.as_str())).await;
                Err(ServiceError::Unauthenticated(why))
            }
            Err(other) => Err(other),
        }
    }

    /// The token's user and the token's id.
    async fn authenticate_token(&self, secret: &str) -> Result<(Actor, i64), ServiceError> {
        let rejected = |why| Err(ServiceError::Unauthenticated(why));
        let Some(secret) = ApiTokenSecret::parse(secret) else {
            return rejected(TokenRejection::Unknown);
        };
        let Some((token, user)) = api_token::Entity::find()
            .filter(api_token::Column::SecretHash.eq(secret_hash(&secret)))
            .find_also_related(user::Entity)
            .one(&self.db)
            .await?
        else {
            return rejected(TokenRejection::Unknown);
        };
        let now = self.now();
        match status_of(&token, now) {
            ApiTokenStatus::Active => {}
            ApiTokenStatus::Revoked => return rejected(TokenRejection::Revoked),
            ApiTokenStatus::Expired => return rejected(TokenRejection::Expired),
        }
        let Some(user) = user.filter(|user| !user.disabled) else {
            return rejected(TokenRejection::UserDisabled);
        };
        api_token::ActiveModel {
            id: Set(token.id),
            last_used_at: Set(Some(now)),
            ..Default::default()
        }
        .update(&self.db)
        .await?;
        Ok((actor_from(user)?, token.id))
    }
}

fn secret_hash(secret: &ApiTokenSecret) -> String {
    Sha256::digest(secret.as_str().as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn status_of(token: &api_token::Model, now: DateTime<Utc>) -> ApiTokenStatus {
    if token.revoked_at.is_some() {
        ApiTokenStatus::Revoked
    } else if token.expires_at.is_some_and(|expires| expires <= now) {
        ApiTokenStatus::Expired
    } else {
        ApiTokenStatus::Active
    }
}

fn token_record(token: api_token::Model, now: DateTime<Utc>) -> ApiTokenRecord {
    ApiTokenRecord {
        id: ApiTokenId(token.id),
        status: status_of(&token, now),
        name: token.name,
        prefix: token.prefix,
        created_at: token.created_at.to_rfc3339(),
        expires_at: token.expires_at.map(|at| at.to_rfc3339()),
        last_used_at: token.last_used_at.map(|at| at.to_rfc3339()),
    }
}
