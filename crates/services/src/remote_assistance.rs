//! Remote assistance for the REST API: the share space (a share) of a live
//! session on a desktop (a host of a project), as seen by a token's user.

use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use db::entities::{host, host_account, om_session, project, share};
use domain::{
    HostId, OmSessionId, ProjectId, ResourceName, SessionEnd, SessionStatus, ShareId,
    SharePassword, ShareSpaceRecord, ShareStatus, ShareValidity, ValidationError,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::shares::{invitation_url, status_of};
use crate::terminal::LiveSession;
use crate::{Actor, Admin, ServiceError, Services};

const ACTIVE: &str = "active";
const OPEN: &str = "OPEN";

/// What a caller may choose when starting to share.
#[derive(Debug, Clone)]
pub struct ShareSpaceOptions {
    /// `None` names the share space after the session's `login@host`.
    pub name: Option<ResourceName>,
    pub password: Option<SharePassword>,
    pub validity: ShareValidity,
}

/// A host of a project, and its host accounts.
struct Desktop {
    accounts: Vec<i64>,
    /// Those the caller holds a usable grant for; never empty.
    granted: Vec<i64>,
}

impl Services {
    /// The share space of the caller's live session on the desktop; else of
    /// a live session there the caller may join; else of the caller's most
    /// recent session there, so an ended or failed one still answers.
    pub async fn share_space(
        &self,
        actor: &Actor,
        project: ProjectId,
        desktop: HostId,
    ) -> Result<ShareSpaceRecord, ServiceError> {
        let desktop = self.desktop(actor, project, desktop).await?;
        if let Some(live) = self.own_live_session(actor, &desktop).await?
            && let Some(found) = self.latest_share(Some(live.id.0), None, &desktop).await?
        {
            return self.share_space_record(actor, found);
        }
        if let Some(found) = self.joinable_share(actor, &desktop).await? {
            return self.share_space_record(actor, found);
        }
        self.latest_own_share_space(actor, &desktop).await
    }

    /// The share space of the caller's most recent session on the desktop
    /// that was shared or is over: one that ended or failed before it was
    /// ever shared answers without a share, so its failure is not lost.
    async fn latest_own_share_space(
        &self,
        actor: &Actor,
        desktop: &Desktop,
    ) -> Result<ShareSpaceRecord, ServiceError> {
        let shared = self.latest_share(None, Some(actor), desktop).await?;
        let over = om_session::Entity::find()
            .filter(om_session::Column::CreatorId.eq(actor.id.0))
            .filter(om_session::Column::State.is_in([
                SessionStatus::Ended.as_str(),
                SessionStatus::Failed.as_str(),
            ]))
            .filter(om_session::Column::HostAccountId.is_in(desktop.accounts.clone()))
            .order_by_desc(om_session::Column::Id)
            .one(&self.db)
            .await?;
        match (shared, over) {
            (Some(found), Some(session)) if session.id <= found.1.id => {
                self.share_space_record(actor, found)
            }
            (Some(found), None) => self.share_space_record(actor, found),
            (_, Some(session)) => match self.latest_share(Some(session.id), None, desktop).await? {
                Some(found) => self.share_space_record(actor, found),
                None => self.unshared_session_record(session).await,
            },
            (None, None) => Err(ServiceError::NotFound("share space")),
        }
    }

    /// Starts sharing the caller's live session on the desktop; while its
    /// share is open, that share is the answer.
    pub async fn start_share_space(
        &self,
        actor: &Actor,
        project: ProjectId,
        desktop: HostId,
        options: ShareSpaceOptions,
    ) -> Result<ShareSpaceRecord, ServiceError> {
        let desktop = self.desktop(actor, project, desktop).await?;
        let live = self.own_session_or_why_not(actor, &desktop).await?;
        let share = self
            .open_share_of(
                actor,
                &live,
                options.validity,
                options.password,
                options.name,
            )
            .await?;
        let session = self.session_row(live.id.0).await?;
        self.share_space_record(actor, (share, session))
    }

    /// Cancels the open share of the caller's live session on the desktop.
    pub async fn cancel_share_space(
        &self,
        actor: &Actor,
        project: ProjectId,
        desktop: HostId,
    ) -> Result<ShareSpaceRecord, ServiceError> {
        let desktop = self.desktop(actor, project, desktop).await?;
        let live = self.own_session_or_why_not(actor, &desktop).await?;
        let share = self.cancel_open_share(actor, &live).await?;
        let session = self.session_row(live.id.0).await?;
        self.share_space_record(actor, (share, session))
    }

    /// The project's host, if the caller may use one of its accounts.
    async fn desktop(
        &self,
        actor: &Actor,
        project: ProjectId,
        desktop: HostId,
    ) -> Result<Desktop, ServiceError> {
        project::Entity::find_by_id(project.0)
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound("project"))?;
        host::Entity::find_by_id(desktop.0)
            .filter(host::Column::ProjectId.eq(project.0))
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound("desktop"))?;
        let accounts = host_account::Entity::find()
            .filter(host_account::Column::HostId.eq(desktop.0))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|account| account.id)
            .collect();
        let granted: Vec<i64> = self
            .granted_accounts(actor)
            .await?
            .into_iter()
            .filter(|account| account.host_id == desktop)
            .map(|account| account.host_account_id.0)
            .collect();
        if granted.is_empty() {
            let object = format!("desktop:{desktop}");
            return Err(self.deny(actor, object, ServiceError::Forbidden).await);
        }
        Ok(Desktop { accounts, granted })
    }

    /// The caller's newest session on the desktop that is still running.
    async fn own_live_session(
        &self,
        actor: &Actor,
        desktop: &Desktop,
    ) -> Result<Option<std::sync::Arc<LiveSession>>, ServiceError> {
        let sessions = om_session::Entity::find()
            .filter(om_session::Column::CreatorId.eq(actor.id.0))
            .filter(om_session::Column::State.eq(ACTIVE))
            .filter(om_session::Column::HostAccountId.is_in(desktop.accounts.clone()))
            .order_by_desc(om_session::Column::Id)
            .all(&self.db)
            .await?;
        Ok(sessions
            .into_iter()
            .find_map(|session| self.live_session(OmSessionId(session.id)).ok()))
    }

    /// The caller's live session, or why they may not share: someone
    /// else's session there that they are in or may join is `NotCreator`.
    async fn own_session_or_why_not(
        &self,
        actor: &Actor,
        desktop: &Desktop,
    ) -> Result<std::sync::Arc<LiveSession>, ServiceError> {
        if let Some(live) = self.own_live_session(actor, desktop).await? {
            return Ok(live);
        }
        if self.joinable_share(actor, desktop).await?.is_some() {
            let object = "remote_assistance".to_owned();
            return Err(self.deny(actor, object, ServiceError::NotCreator).await);
        }
        Err(ServiceError::NotFound("active session"))
    }

    /// The newest share on the desktop, of one session or of the sessions
    /// one user created.
    async fn latest_share(
        &self,
        session: Option<i64>,
        creator: Option<&Actor>,
        desktop: &Desktop,
    ) -> Result<Option<(share::Model, om_session::Model)>, ServiceError> {
        let mut query = share::Entity::find()
            .find_also_related(om_session::Entity)
            .filter(om_session::Column::HostAccountId.is_in(desktop.accounts.clone()));
        if let Some(session) = session {
            query = query.filter(share::Column::OmSessionId.eq(session));
        }
        if let Some(creator) = creator {
            query = query.filter(om_session::Column::CreatorId.eq(creator.id.0));
        }
        let found = query.order_by_desc(share::Column::Id).one(&self.db).await?;
        Ok(found.and_then(|(share, session)| Some((share, session?))))
    }

    /// The newest open share on the desktop that admits the caller by
    /// grant, on a session still running (the password is checked on
    /// Enter, as for the invitation URL).
    async fn joinable_share(
        &self,
        actor: &Actor,
        desktop: &Desktop,
    ) -> Result<Option<(share::Model, om_session::Model)>, ServiceError> {
        let open = share::Entity::find()
            .find_also_related(om_session::Entity)
            .filter(share::Column::Status.eq(OPEN))
            .filter(share::Column::ExpiresAt.gt(self.now()))
            .filter(om_session::Column::State.eq(ACTIVE))
            .filter(om_session::Column::CreatorId.ne(actor.id.0))
            .filter(om_session::Column::HostAccountId.is_in(desktop.granted.clone()))
            .order_by_desc(share::Column::Id)
            .all(&self.db)
            .await?;
        Ok(open.into_iter().find_map(|(share, session)| {
            let session = session?;
            self.live_session(OmSessionId(session.id)).ok()?;
            Some((share, session))
        }))
    }

    async fn session_row(&self, id: i64) -> Result<om_session::Model, ServiceError> {
        om_session::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound("session"))
    }

    /// A session that is over and was never shared: its name is the one a
    /// share would have had, its time is its start.
    async fn unshared_session_record(
        &self,
        session: om_session::Model,
    ) -> Result<ShareSpaceRecord, ServiceError> {
        Ok(ShareSpaceRecord {
            id: None,
            code: None,
            name: self.session_label(OmSessionId(session.id)).await?,
            password: None,
            private_link: None,
            internet_link: None,
            created_at: session.started_at.format(TIME_FORMAT).to_string(),
            status: ShareStatus::Ended,
            failure: failure_of(&session),
        })
    }

    fn share_space_record(
        &self,
        actor: &Actor,
        (share, session): (share::Model, om_session::Model),
    ) -> Result<ShareSpaceRecord, ServiceError> {
        let password = match &share.password_sealed {
            Some(sealed) if session.creator_id == actor.id.0 => {
                let opened = self.secrets.open(sealed).map_err(ServiceError::Internal)?;
                Some(
                    String::from_utf8(opened)
                        .map_err(|error| ServiceError::Internal(error.into()))?,
                )
            }
            _ => None,
        };
        Ok(ShareSpaceRecord {
            id: Some(ShareId(share.id)),
            private_link: Some(invitation_url(self.config.internal_url(), &share.code)),
            internet_link: Some(invitation_url(&self.config.public_url, &share.code)),
            created_at: share.created_at.format(TIME_FORMAT).to_string(),
            status: status_of(&share, self.now()),
            code: Some(share.code),
            name: share.name,
            password,
            failure: failure_of(&session),
        })
    }
}

/// The REST API's time format: UTC, `yyyy-MM-dd'T'HH:mm:ss'Z'`.
const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

/// Why the session failed, when it did (not when it ended normally).
fn failure_of(session: &om_session::Model) -> Option<SessionEnd> {
    session
        .end_reason
        .as_deref()
        .and_then(SessionEnd::from_code)
        .filter(SessionEnd::is_failure)
}

impl Services {
    /// Seals a note for administrators only (the REST API's encoded
    /// authorization message): base64 of the text sealed with the server's
    /// key.
    pub fn seal_note(&self, note: &str) -> Result<String, ServiceError> {
        let sealed = self
            .secrets
            .seal(note.as_bytes())
            .map_err(ServiceError::Internal)?;
        Ok(BASE64_STANDARD.encode(sealed))
    }

    /// Opens a note sealed by `seal_note`.
    pub fn open_note(&self, _admin: Admin, sealed: &str) -> Result<String, ServiceError> {
        let invalid = || ValidationError::new("message", "is not a message sealed by this server");
        let sealed = BASE64_STANDARD
            .decode(sealed.trim())
            .map_err(|_| invalid())?;
        let opened = self.secrets.open(&sealed).map_err(|_| invalid())?;
        Ok(String::from_utf8(opened).map_err(|_| invalid())?)
    }
}
