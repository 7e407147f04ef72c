//! The server side of the browser's session cookie: a tower-sessions store
//! over the `web_sessions` table, so sign-ins survive a restart and are
//! shared by every Tandem node on one database. The table keys each session
//! by a SHA-256 hash of its id: the id lives only in the browser's cookie,
//! so a copy of the database (or a reader of the file) signs no one in.
//! The id is 128 random bits, so an unsalted hash cannot be reversed by
//! guessing, and a lookup stays one indexed read.

use chrono::{DateTime, Utc};
use db::entities::web_session;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};
use tower_sessions_core::Session;
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store::{self, ExpiredDeletion, SessionStore};

use crate::audit::AuditEntry;
use crate::{Actor, ServiceError, Services};
use domain::AuditKind;

/// The key under which a signed-in browser's user id is kept.
const USER_ID_KEY: &str = "user_id";

impl Services {
    /// The signed-in, enabled user of a browser, if any. A sign-in whose
    /// user was disabled since is ended here.
    pub async fn signed_in_actor(&self, session: &Session) -> Result<Option<Actor>, ServiceError> {
        let user_id: Option<i64> = session.get(USER_ID_KEY).await.map_err(web_session_error)?;
        let Some(user_id) = user_id else {
            return Ok(None);
        };
        let actor = self.actor(domain::UserId(user_id)).await?;
        if actor.is_none() {
            session.flush().await.map_err(web_session_error)?;
        }
        Ok(actor)
    }

    pub async fn sign_in(&self, session: &Session, actor: &Actor) -> Result<(), ServiceError> {
        // A new id at sign-in, so a session id planted before it is worthless.
        session.cycle_id().await.map_err(web_session_error)?;
        session
            .insert(USER_ID_KEY, actor.id.0)
            .await
            .map_err(web_session_error)
    }
}

impl Services {
    /// Log out: the browser's session ends at once.
    pub async fn sign_out(
        &self,
        session: &Session,
        actor: Option<&Actor>,
    ) -> Result<(), ServiceError> {
        session.flush().await.map_err(web_session_error)?;
        if let Some(actor) = actor {
            self.audit(AuditEntry::by(actor, AuditKind::Logout)).await;
        }
        Ok(())
    }
}

fn web_session_error(error: tower_sessions_core::session::Error) -> ServiceError {
    ServiceError::Internal(error.into())
}

#[derive(Debug, Clone)]
pub struct WebSessionStore {
    db: DatabaseConnection,
}

impl WebSessionStore {
    pub(crate) fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn backend(error: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

fn expiry(record: &Record) -> Result<DateTime<Utc>, session_store::Error> {
    DateTime::from_timestamp(record.expiry_date.unix_timestamp(), 0)
        .ok_or_else(|| session_store::Error::Encode("expiry out of range".to_owned()))
}

/// What the table keys a session by: SHA-256 of the id as the cookie
/// carries it, in hex.
fn id_hash(id: &Id) -> String {
    Sha256::digest(id.to_string().as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn row(record: &Record) -> Result<web_session::ActiveModel, session_store::Error> {
    let data = serde_json::to_string(&record.data)
        .map_err(|error| session_store::Error::Encode(error.to_string()))?;
    Ok(web_session::ActiveModel {
        id_hash: Set(id_hash(&record.id)),
        data: Set(data),
        expires_at: Set(expiry(record)?),
    })
}

#[async_trait::async_trait]
impl SessionStore for WebSessionStore {
    /// Inserts under a fresh id, drawing another on the (astronomically
    /// unlikely) collision, so one browser never takes over another's row.
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        loop {
            match web_session::Entity::insert(row(record)?)
                .exec(&self.db)
                .await
            {
                Ok(_) => return Ok(()),
                Err(error)
                    if matches!(
                        error.sql_err(),
                        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                    ) =>
                {
                    record.id = Id::default();
                }
                Err(error) => return Err(backend(error)),
            }
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        web_session::Entity::insert(row(record)?)
            .on_conflict(
                OnConflict::column(web_session::Column::IdHash)
                    .update_columns([web_session::Column::Data, web_session::Column::ExpiresAt])
                    .to_owned(),
            )
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row = web_session::Entity::find_by_id(id_hash(id))
            .filter(web_session::Column::ExpiresAt.gt(Utc::now()))
            .one(&self.db)
            .await
            .map_err(backend)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let data = serde_json::from_str(&row.data)
            .map_err(|error| session_store::Error::Decode(error.to_string()))?;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(row.expires_at.timestamp())
            .map_err(|error| session_store::Error::Decode(error.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        web_session::Entity::delete_by_id(id_hash(id))
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl ExpiredDeletion for WebSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        web_session::Entity::delete_many()
            .filter(web_session::Column::ExpiresAt.lte(Utc::now()))
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_the_sha256_of_the_cookie_value() {
        // Id(1) is "AQAAAAAAAAAAAAAAAAAAAA" in the cookie; the hash was
        // computed independently (sha256sum).
        let id = Id(1);
        assert_eq!(id.to_string(), "AQAAAAAAAAAAAAAAAAAAAA");
        assert_eq!(
            id_hash(&id),
            "c20b382edd27f8925fb2f53d12130212163e38651dd7fc2583d1a9db30f41176"
        );
    }
}
