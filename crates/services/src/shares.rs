//! Shares: the invitation on a live session, who it admits (rule 10), and
//! the join records of every entry and every refusal.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use db::entities::{host, host_account, join_record, om_session, share, user};
use domain::{
    AuditKind, HostAccountId, InvitationCode, InvitationRecord, JoinRecord, JoinRefusal,
    OmSessionId, ResourceName, SessionEnd, ShareId, SharePassword, ShareRecord, ShareStatus,
    ShareValidity,
};
use rand::Rng;
use rand::rngs::OsRng;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};

use crate::audit::AuditEntry;
use crate::terminal::LiveSession;
use crate::{Actor, ServiceError, Services, passwords};

const OPEN: &str = "OPEN";

/// An invitation that admits the actor, before any password is checked.
struct Admission {
    share: share::Model,
    session: om_session::Model,
    live: Arc<LiveSession>,
}

impl Services {
    /// The creator's live session, or why not.
    pub(crate) async fn created_live_session(
        &self,
        actor: &Actor,
        id: OmSessionId,
    ) -> Result<Arc<LiveSession>, ServiceError> {
        let live = self.live_session(id)?;
        if live.creator != actor.id {
            let object = format!("session:{id}");
            return Err(self.deny(actor, object, ServiceError::NotCreator).await);
        }
        Ok(live)
    }

    /// The open, unexpired share of the creator's live session, for the
    /// Share dialog.
    pub async fn session_share(
        &self,
        actor: &Actor,
        id: OmSessionId,
    ) -> Result<Option<ShareRecord>, ServiceError> {
        self.created_live_session(actor, id).await?;
        Ok(self
            .open_share(id)
            .await?
            .filter(|share| share.expires_at > self.now())
            .map(|share| self.share_record(&share)))
    }

    /// Invite friends: opens a share of the creator's live session. While
    /// one is open and unexpired it is returned instead, so every opening of
    /// the dialog shows the same URL.
    pub async fn create_share(
        &self,
        actor: &Actor,
        id: OmSessionId,
        validity: ShareValidity,
        password: Option<SharePassword>,
    ) -> Result<ShareRecord, ServiceError> {
        let live = self.created_live_session(actor, id).await?;
        let share = self
            .open_share_of(actor, &live, validity, password, None)
            .await?;
        Ok(self.share_record(&share))
    }

    /// The open share of a live session, opened now unless one is open and
    /// unexpired. `name` defaults to the session's `login@host`.
    pub(crate) async fn open_share_of(
        &self,
        actor: &Actor,
        live: &LiveSession,
        validity: ShareValidity,
        password: Option<SharePassword>,
        name: Option<ResourceName>,
    ) -> Result<share::Model, ServiceError> {
        let id = live.id;
        let now = self.now();
        if let Some(open) = self.open_share(id).await? {
            if open.expires_at > now {
                return Ok(open);
            }
            self.close_share(open.id, ShareStatus::Expired).await?;
        }
        let (password_hash, password_sealed) = match password {
            Some(password) => {
                let sealed = self
                    .secrets
                    .seal(password.expose().as_bytes())
                    .map_err(ServiceError::Internal)?;
                let hash = passwords::hash(password.expose().to_owned()).await?;
                (Some(hash), Some(sealed))
            }
            None => (None, None),
        };
        let name = match name {
            Some(name) => name.as_str().to_owned(),
            None => self.session_label(id).await?,
        };
        let expires_at = now
            + chrono::Duration::from_std(validity.duration())
                .map_err(|error| ServiceError::Internal(error.into()))?;
        let created = share::ActiveModel {
            om_session_id: Set(id.0),
            code: Set(self.unused_code().await?.to_string()),
            password_hash: Set(password_hash),
            password_sealed: Set(password_sealed),
            name: Set(name),
            status: Set(OPEN.to_owned()),
            created_at: Set(now),
            expires_at: Set(expires_at),
            closed_at: Set(None),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        live.set_shared(true).await;
        tracing::info!(session = %id, share = created.id, "share created");
        let entry = AuditEntry::by(actor, AuditKind::ShareCreated).session(id);
        self.audit(entry.object("share", created.id)).await;
        Ok(created)
    }

    /// `login@host` of a session's account.
    pub(crate) async fn session_label(&self, id: OmSessionId) -> Result<String, ServiceError> {
        let session = om_session::Entity::find_by_id(id.0)
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound("session"))?;
        let (account, host) = host_account::Entity::find_by_id(session.host_account_id)
            .find_also_related(host::Entity)
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound("host account"))?;
        let host = host.map(|host| host.name).unwrap_or_default();
        Ok(format!("{}@{host}", account.login))
    }

    /// A code from the operating system's random source that no open share
    /// uses (36^8 codes make a clash rare; the loop makes it harmless).
    async fn unused_code(&self) -> Result<InvitationCode, ServiceError> {
        loop {
            let code = InvitationCode::from_indexes(std::array::from_fn(|_| {
                OsRng.gen_range(0..domain::INVITATION_ALPHABET.len())
            }));
            let taken = share::Entity::find()
                .filter(share::Column::Code.eq(code.as_str()))
                .filter(share::Column::Status.eq(OPEN))
                .filter(share::Column::ExpiresAt.gt(self.now()))
                .one(&self.db)
                .await?;
            if taken.is_none() {
                return Ok(code);
            }
        }
    }

    /// Cancel share: the share ends and every invited user is forced out.
    /// The creator's terminal goes on.
    pub async fn cancel_share(&self, actor: &Actor, id: OmSessionId) -> Result<(), ServiceError> {
        let live = self.created_live_session(actor, id).await?;
        self.cancel_open_share(actor, &live).await.map(drop)
    }

    /// Cancels the session's open share; returns it as cancelled.
    pub(crate) async fn cancel_open_share(
        &self,
        actor: &Actor,
        live: &LiveSession,
    ) -> Result<share::Model, ServiceError> {
        let id = live.id;
        let share = self
            .open_share(id)
            .await?
            .ok_or(ServiceError::NotFound("open share"))?;
        // Closed first, so nobody enters between the two steps.
        let cancelled = self.close_share(share.id, ShareStatus::Cancelled).await?;
        let forced_out = live.cancel_share().await;
        for user in forced_out {
            self.record_leaving(id, Some(user)).await?;
        }
        tracing::info!(session = %id, share = share.id, "share cancelled");
        let entry = AuditEntry::by(actor, AuditKind::ShareCancelled).session(id);
        self.audit(entry.object("share", share.id)).await;
        Ok(cancelled)
    }

    /// The session's latest share still marked open (it may have expired).
    pub(crate) async fn open_share(
        &self,
        id: OmSessionId,
    ) -> Result<Option<share::Model>, ServiceError> {
        Ok(share::Entity::find()
            .filter(share::Column::OmSessionId.eq(id.0))
            .filter(share::Column::Status.eq(OPEN))
            .order_by_desc(share::Column::Id)
            .one(&self.db)
            .await?)
    }

    async fn close_share(
        &self,
        id: i64,
        status: ShareStatus,
    ) -> Result<share::Model, ServiceError> {
        Ok(share::ActiveModel {
            id: Set(id),
            status: Set(status.as_str().to_owned()),
            closed_at: Set(Some(self.now())),
            ..Default::default()
        }
        .update(&self.db)
        .await?)
    }

    /// The session ended: its share admits no one and everyone has left.
    pub(crate) async fn close_shares(&self, id: OmSessionId) -> Result<(), ServiceError> {
        if let Some(open) = self.open_share(id).await? {
            self.close_share(open.id, ShareStatus::Ended).await?;
        }
        self.record_leaving(id, None).await
    }

    /// Sets the leaving time on the open entries of one user, or of all.
    pub(crate) async fn record_leaving(
        &self,
        id: OmSessionId,
        user: Option<domain::UserId>,
    ) -> Result<(), ServiceError> {
        let mut update = join_record::Entity::update_many()
            .col_expr(join_record::Column::LeftAt, self.now().into())
            .filter(join_record::Column::OmSessionId.eq(id.0))
            .filter(join_record::Column::Refusal.is_null())
            .filter(join_record::Column::LeftAt.is_null());
        if let Some(user) = user {
            update = update.filter(join_record::Column::UserId.eq(user.0));
        }
        update.exec(&self.db).await?;
        Ok(())
    }

    fn share_record(&self, share: &share::Model) -> ShareRecord {
        ShareRecord {
            id: ShareId(share.id),
            url: self.invitation_url(&share.code),
            code: share.code.clone(),
            expires_at: share.expires_at.to_rfc3339(),
            has_password: share.password_hash.is_some(),
            status: status_of(share, self.now()),
        }
    }

    fn invitation_url(&self, code: &str) -> String {
        invitation_url(&self.config.public_url, code)
    }

    /// The invitation page: what the invitation is, if it admits the actor.
    pub async fn invitation(
        &self,
        actor: &Actor,
        code: &str,
        address: IpAddr,
    ) -> Result<InvitationRecord, ServiceError> {
        let admission = self.admission(actor, code, address).await?;
        let opened = AuditEntry::by(actor, AuditKind::InvitationOpened)
            .session(OmSessionId(admission.session.id))
            .object("share", admission.share.id);
        self.audit(opened).await;
        let inviter = user::Entity::find_by_id(admission.session.creator_id)
            .one(&self.db)
            .await?
            .map(|user| user.display_name)
            .unwrap_or_default();
        let account = self
            .granted_account(actor, HostAccountId(admission.session.host_account_id))
            .await?;
        Ok(InvitationRecord {
            code: admission.share.code.clone(),
            session: OmSessionId(admission.session.id),
            inviter,
            host_name: account.host_name,
            login: account.login,
            started_at: admission.session.started_at.to_rfc3339(),
            expires_at: admission.share.expires_at.to_rfc3339(),
            participants: admission.live.participant_names(),
            needs_password: admission.share.password_hash.is_some()
                && admission.session.creator_id != actor.id.0,
        })
    }

    /// Enter: checks the invitation and its password and puts the actor in
    /// the session. Returns the session to open.
    pub async fn enter_share(
        &self,
        actor: &Actor,
        code: &str,
        password: &str,
        address: IpAddr,
    ) -> Result<OmSessionId, ServiceError> {
        let Admission {
            share,
            session,
            live,
        } = self.admission(actor, code, address).await?;
        let id = OmSessionId(session.id);
        if live.creator == actor.id {
            return Ok(id);
        }
        if let Some(hash) = share.password_hash.clone()
            && !passwords::verify(password.to_owned(), hash).await?
        {
            let refusal = JoinRefusal::WrongPassword;
            return Err(self
                .refuse(actor, address, Some((&session, &share)), refusal)
                .await);
        }
        if live.enter(actor.id, actor.display_name.clone()).await {
            self.record_entry(actor, id, Some(share.id), address)
                .await?;
            tracing::info!(session = %id, user = %actor.username, %address, "entered a shared session");
            let entry = AuditEntry::by(actor, AuditKind::Joined).session(id);
            self.audit(entry.object("share", share.id)).await;
        }
        if let Ok(mut limiter) = self.invitation_limiter.lock() {
            limiter.record_success(&limiter_key(actor));
        }
        Ok(id)
    }

    /// The join record of an entry, through a share or (`share` `None`) a
    /// named share.
    pub(crate) async fn record_entry(
        &self,
        actor: &Actor,
        id: OmSessionId,
        share: Option<i64>,
        address: IpAddr,
    ) -> Result<(), ServiceError> {
        join_record::ActiveModel {
            om_session_id: Set(Some(id.0)),
            share_id: Set(share),
            user_id: Set(actor.id.0),
            address: Set(address.to_string()),
            at: Set(self.now()),
            left_at: Set(None),
            refusal: Set(None),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }

    /// Rule 10, in order: the attempt rate, the code, the grant, then the
    /// share's and the session's state. Every refusal is recorded.
    async fn admission(
        &self,
        actor: &Actor,
        code: &str,
        address: IpAddr,
    ) -> Result<Admission, ServiceError> {
        let allowed = self
            .invitation_limiter
            .lock()
            .map(|limiter| {
                limiter.allows(&limiter_key(actor), &address.to_string(), Instant::now())
            })
            .unwrap_or(false);
        if !allowed {
            return Err(self
                .refuse(actor, address, None, JoinRefusal::TooManyAttempts)
                .await);
        }
        let found = match InvitationCode::parse(code) {
            Ok(code) => {
                share::Entity::find()
                    .filter(share::Column::Code.eq(code.as_str()))
                    .order_by_desc(share::Column::Id)
                    .find_also_related(om_session::Entity)
                    .one(&self.db)
                    .await?
            }
            Err(_) => None,
        };
        let Some((share, Some(session))) = found else {
            return Err(self
                .refuse(actor, address, None, JoinRefusal::UnknownCode)
                .await);
        };
        let permitted = self
            .holds_grant(actor, HostAccountId(session.host_account_id))
            .await?;
        let live = self.live_session(OmSessionId(session.id)).ok();
        let refusal = match (permitted, status_of(&share, self.now()), live) {
            (false, _, _) => JoinRefusal::NotPermitted,
            (true, ShareStatus::Cancelled, _) => JoinRefusal::Cancelled,
            (true, ShareStatus::Ended, _) | (true, _, None) => JoinRefusal::SessionEnded {
                reason: ended_reason(&session),
            },
            (true, ShareStatus::Expired, _) => JoinRefusal::Expired,
            (true, ShareStatus::Open, Some(live)) => {
                return Ok(Admission {
                    share,
                    session,
                    live,
                });
            }
        };
        Err(self
            .refuse(actor, address, Some((&session, &share)), refusal)
            .await)
    }

    /// Records a refused attempt (and counts a failed guess), and returns
    /// the error to answer with.
    async fn refuse(
        &self,
        actor: &Actor,
        address: IpAddr,
        target: Option<(&om_session::Model, &share::Model)>,
        refusal: JoinRefusal,
    ) -> ServiceError {
        if refusal.is_failed_guess()
            && let Ok(mut limiter) = self.invitation_limiter.lock()
        {
            limiter.record_failure(&limiter_key(actor), &address.to_string(), Instant::now());
        }
        tracing::info!(user = %actor.username, %address, code = refusal.code(), "invitation refused");
        let record = join_record::ActiveModel {
            om_session_id: Set(target.map(|(session, _)| session.id)),
            share_id: Set(target.map(|(_, share)| share.id)),
            user_id: Set(actor.id.0),
            address: Set(address.to_string()),
            at: Set(self.now()),
            left_at: Set(None),
            refusal: Set(Some(refusal.code().to_owned())),
            ..Default::default()
        };
        if let Err(error) = record.insert(&self.db).await {
            return error.into();
        }
        let mut entry = AuditEntry::by(actor, AuditKind::JoinRefused).denied();
        if let Some((session, share)) = target {
            entry = entry
                .session(OmSessionId(session.id))
                .object("share", share.id);
        }
        self.audit(entry.detail(refusal.code())).await;
        ServiceError::Refused(refusal)
    }

    /// Who entered a session through its shares and who was refused: for
    /// its creator and for admins.
    pub async fn join_records(
        &self,
        actor: &Actor,
        id: OmSessionId,
    ) -> Result<Vec<JoinRecord>, ServiceError> {
        let session = om_session::Entity::find_by_id(id.0)
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound("session"))?;
        if session.creator_id != actor.id.0 {
            self.require_admin(actor, &format!("join_records:{id}"))
                .await?;
        }
        let rows = join_record::Entity::find()
            .filter(join_record::Column::OmSessionId.eq(id.0))
            .order_by_asc(join_record::Column::Id)
            .find_also_related(user::Entity)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(record, user)| JoinRecord {
                username: user.map(|user| user.username).unwrap_or_default(),
                address: record.address,
                at: record.at.to_rfc3339(),
                left_at: record.left_at.map(|at| at.to_rfc3339()),
                refusal: record.refusal.map(|code| {
                    let title = JoinRefusal::from_code(&code).map_or("", |refusal| refusal.title());
                    (code, title.to_owned())
                }),
            })
            .collect())
    }
}

/// The invitation page of a code, under a base URL.
pub(crate) fn invitation_url(base: &str, code: &str) -> String {
    format!("{}/invite/{code}", base.trim_end_matches('/'))
}

fn limiter_key(actor: &Actor) -> String {
    format!("user:{}", actor.id)
}

/// A share's status now: an open share past its expiry has expired.
pub(crate) fn status_of(share: &share::Model, now: DateTime<Utc>) -> ShareStatus {
    match ShareStatus::parse(&share.status) {
        Some(ShareStatus::Open) if share.expires_at <= now => ShareStatus::Expired,
        Some(status) => status,
        None => ShareStatus::Ended,
    }
}

fn ended_reason(session: &om_session::Model) -> String {
    session
        .end_reason
        .as_deref()
        .and_then(SessionEnd::from_code)
        .map_or("", |end| end.message())
        .to_owned()
}
