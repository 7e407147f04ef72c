//! O&M sessions: opening a shell through a granted host account, attaching
//! browsers to it, and ending it with a stored reason.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use db::entities::{host, host_account, om_session, user};
use domain::{
    AuditKind, CastHeader, Fingerprint, GrantedAccount, HostAccountId, HostAddress, OmSessionId,
    OmSessionRecord, Port, SecretKind, SessionEnd, SessionStatus, SessionTitle, SessionWindow,
    TerminalSize, UserId,
};
use gateway::{Credential, ShellTarget, Timeouts};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
};

use crate::audit::AuditEntry;
use crate::recording::{Recorder, RecordingSummary, RecordingWriter};
use crate::terminal::{
    Attachment, Host, LiveSession, Now, Outcome, PANEL_INTERVAL, ShellEnds, Start, Timing,
};
use crate::{Actor, ServiceError, Services};

impl Services {
    /// Login: opens a session now through a host account granted to the
    /// actor, with the default window. The SSH connection is made in the
    /// background; its outcome reaches the session page over the terminal
    /// socket.
    pub async fn start_session(
        &self,
        actor: &Actor,
        account_id: HostAccountId,
    ) -> Result<OmSessionId, ServiceError> {
        let account = self.granted_account(actor, account_id).await?;
        self.check_live_session_cap(actor).await?;
        let window = SessionWindow::immediate(self.now(), self.session_length()?)?;
        let title = format!("{}@{}", account.login, account.host_name);
        let id = self
            .insert_session(actor, account_id, &title, window, SessionStatus::Active)
            .await?;
        self.launch(actor, id, &account, window, true).await?;
        Ok(id)
    }

    /// Refuses a new session to a user who already holds the most active
    /// sessions allowed. Counted in the database, so every node sees the
    /// same number.
    async fn check_live_session_cap(&self, actor: &Actor) -> Result<(), ServiceError> {
        let cap = self.config.max_live_sessions_per_user;
        let active = om_session::Entity::find()
            .filter(om_session::Column::CreatorId.eq(actor.id.0))
            .filter(om_session::Column::State.eq(SessionStatus::Active.as_str()))
            .count(&self.db)
            .await?;
        if active >= u64::from(cap) {
            return Err(ServiceError::Conflict(format!(
                "you already have {active} active sessions, the most allowed: \
                 exit one before opening another"
            )));
        }
        Ok(())
    }

    /// Schedules a session on a granted host account for a future window.
    /// It stays Scheduled until its start, when the clock opens it.
    pub async fn schedule_session(
        &self,
        actor: &Actor,
        account_id: HostAccountId,
        title: &str,
        start: DateTime<Utc>,
        length: chrono::Duration,
    ) -> Result<OmSessionId, ServiceError> {
        let account = self.granted_account(actor, account_id).await?;
        let title = SessionTitle::parse(title)?;
        let window = SessionWindow::scheduled(self.now(), start, length)?;
        let id = self
            .insert_session(
                actor,
                account_id,
                title.as_str(),
                window,
                SessionStatus::Scheduled,
            )
            .await?;
        let scheduled = AuditEntry::by(actor, AuditKind::SessionScheduled)
            .session(id)
            .host(account.host_id);
        self.audit(scheduled.detail(window.start.to_rfc3339()))
            .await;
        tracing::info!(session = %id, user = %actor.username, start = %window.start, "session scheduled");
        Ok(id)
    }

    /// The window of an immediate session.
    fn session_length(&self) -> Result<chrono::Duration, ServiceError> {
        chrono::Duration::from_std(self.config.session_length)
            .map_err(|error| ServiceError::Internal(error.into()))
    }

    async fn insert_session(
        &self,
        owner: &Actor,
        account_id: HostAccountId,
        title: &str,
        window: SessionWindow,
        status: SessionStatus,
    ) -> Result<OmSessionId, ServiceError> {
        let row = om_session::ActiveModel {
            creator_id: Set(owner.id.0),
            host_account_id: Set(account_id.0),
            title: Set(title.to_owned()),
            state: Set(status.as_str().to_owned()),
            started_at: Set(window.start),
            ends_at: Set(Some(window.end)),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        Ok(OmSessionId(row.id))
    }

    /// Opens the recording, the live session and, in the background, the
    /// shell of a session that is now active. With `awaits_creator` (Login)
    /// the creator's browser is expected next: the session ends unless it
    /// attaches within the reconnect grace.
    pub(crate) async fn launch(
        &self,
        owner: &Actor,
        id: OmSessionId,
        account: &GrantedAccount,
        window: SessionWindow,
        awaits_creator: bool,
    ) -> Result<Arc<LiveSession>, ServiceError> {
        let target = self.shell_target(account.host_account_id).await?;
        let started = AuditEntry::by(owner, AuditKind::SessionStarted)
            .session(id)
            .host(account.host_id);
        self.audit(started.detail(format!("{}@{}", account.login, account.host_name)))
            .await;
        let header = CastHeader {
            width: TerminalSize::INITIAL.cols(),
            height: TerminalSize::INITIAL.rows(),
            timestamp: self.now().timestamp(),
            title: format!(
                "{} on {}@{}",
                owner.display_name, account.login, account.host_name
            ),
            term: gateway::TERM.to_owned(),
        };
        let writer = match self.config.record_sessions {
            true => Some(self.open_recording(owner, id, &header).await?),
            false => None,
        };
        let (recorder, key_screens, recorded) = Recorder::channel();
        let start = Start {
            id,
            creator: (owner.id, owner.display_name.clone()),
            timing: Timing {
                request_timeout: self.config.control_request_timeout,
                reconnect_grace: self.config.reconnect_grace,
                panel_interval: PANEL_INTERVAL,
            },
            recorder,
            key_screens,
            window: Some(window),
            awaits_creator,
        };
        let (session, shell) = LiveSession::start(start, SessionHost(self.clone()));
        if let Some(writer) = writer {
            let services = self.clone();
            session.set_recording_task(tokio::spawn(async move {
                let written = writer.run(recorded).await;
                if let Err(error) = &written {
                    tracing::error!(session = %id, %error, "writing the recording failed");
                    // Not awaited here: ending the session awaits this task.
                    tokio::spawn(async move {
                        services.end_session(id, SessionEnd::RecordingFailed).await
                    });
                }
                written
            }));
        }
        self.live.insert(session.clone());
        tracing::info!(session = %id, user = %owner.username, account = %account.host_account_id, "session started");
        tokio::spawn(self.clone().open_shell(target, shell));
        Ok(session)
    }

    /// Creates the session's recording file and stores where it is; when it
    /// cannot be created the session ends before it starts (R_500).
    async fn open_recording(
        &self,
        actor: &Actor,
        id: OmSessionId,
        header: &CastHeader,
    ) -> Result<RecordingWriter, ServiceError> {
        let path = format!("recordings/session-{id}-{}.cast", header.timestamp);
        match RecordingWriter::create(&self.config.data_dir.join(&path), header).await {
            Ok(writer) => {
                om_session::ActiveModel {
                    id: Set(id.0),
                    recording_path: Set(Some(path)),
                    ..Default::default()
                }
                .update(&self.db)
                .await?;
                Ok(writer)
            }
            Err(error) => {
                tracing::error!(session = %id, %path, %error, "opening the recording failed");
                let end = SessionEnd::RecordingUnavailable;
                self.store_end(id, &end).await?;
                self.audit_end(actor.id, id, &end).await;
                Err(ServiceError::Ended(end))
            }
        }
    }

    /// Opens the shell and hands its events to the session's driver.
    async fn open_shell(self, target: ShellTarget, shell: ShellEnds) {
        let timeouts = Timeouts {
            connect: self.config.connect_timeout,
            keepalive_interval: self.config.keepalive_interval,
            keepalive_max: self.config.keepalive_max,
        };
        let opened =
            gateway::open_shell(target, TerminalSize::INITIAL, timeouts, shell.commands).await;
        // A session that ended while the shell opened drops it here.
        let _ = shell.opened.send(opened);
    }

    /// Ends a live session for everyone and waits until its end is stored.
    /// Does nothing when it has already ended.
    pub(crate) async fn end_session(&self, id: OmSessionId, end: SessionEnd) {
        if let Some(session) = self.live.get(id) {
            session.end(end).await;
        }
    }

    /// What follows the end of a live session, in its driver: the end
    /// stored and audited, its shares closed, its recording finished.
    async fn session_ended(&self, id: OmSessionId, creator: UserId, end: SessionEnd) {
        let session = self.live.remove(id);
        tracing::info!(session = %id, code = end.code(), "session ended");
        // The end first: whoever asks about the session from now on (an
        // invitation, say) must learn why it ended without waiting for the
        // recording to be finished.
        if let Err(error) = self.store_end(id, &end).await {
            tracing::error!(session = %id, %error, "storing the end of a session failed");
        }
        self.audit_end(creator, id, &end).await;
        if let Err(error) = self.close_shares(id).await {
            tracing::error!(session = %id, ?error, "closing the shares of a session failed");
        }
        let Some(task) = session.and_then(|session| session.take_recording_task()) else {
            return;
        };
        if let Ok(Ok(summary)) = task.await
            && let Err(error) = self.store_recording_summary(id, summary).await
        {
            tracing::error!(session = %id, %error, "storing the size of a recording failed");
        }
    }

    pub(crate) async fn audit_end(&self, creator: UserId, id: OmSessionId, end: &SessionEnd) {
        let entry = AuditEntry::concerning(creator, AuditKind::SessionEnded)
            .session(id)
            .detail(end.code());
        self.audit(if end.is_failure() {
            entry.failed()
        } else {
            entry
        })
        .await;
    }

    pub(crate) async fn store_end(
        &self,
        id: OmSessionId,
        end: &SessionEnd,
    ) -> Result<(), sea_orm::DbErr> {
        let row = om_session::ActiveModel {
            id: Set(id.0),
            state: Set(ended_status(end).as_str().to_owned()),
            ended_at: Set(Some(self.now())),
            end_reason: Set(Some(end.code().to_owned())),
            ..Default::default()
        };
        row.update(&self.db).await.map(|_| ())
    }

    async fn store_recording_summary(
        &self,
        id: OmSessionId,
        summary: RecordingSummary,
    ) -> Result<(), sea_orm::DbErr> {
        let row = om_session::ActiveModel {
            id: Set(id.0),
            recording_size: Set(Some(i64::try_from(summary.size).unwrap_or(i64::MAX))),
            recording_duration_ms: Set(Some(
                i64::try_from(summary.duration.as_millis()).unwrap_or(i64::MAX),
            )),
            ..Default::default()
        };
        row.update(&self.db).await.map(|_| ())
    }

    /// Marks sessions left active by a previous run as ended: their shells
    /// died with that process. Scheduled ones wait for the clock. A
    /// recording that process could not finish gets its size and duration
    /// from the file.
    pub(crate) async fn close_orphaned_sessions(&self) -> Result<(), ServiceError> {
        let orphans = om_session::Entity::find()
            .filter(om_session::Column::State.eq(SessionStatus::Active.as_str()))
            .all(&self.db)
            .await?;
        for orphan in orphans {
            let id = OmSessionId(orphan.id);
            self.store_end(id, &SessionEnd::ServerStopped).await?;
            let Some(path) = orphan
                .recording_path
                .filter(|_| orphan.recording_size.is_none())
            else {
                continue;
            };
            match RecordingSummary::of_file(self.config.data_dir.join(&path)).await {
                Ok(summary) => self.store_recording_summary(id, summary).await?,
                Err(error) => {
                    tracing::warn!(session = %id, %path, %error, "reading an unfinished recording failed");
                }
            }
        }
        Ok(())
    }

    /// A session that is still running on this node.
    pub(crate) fn live_session(&self, id: OmSessionId) -> Result<Arc<LiveSession>, ServiceError> {
        self.live
            .get(id)
            .filter(|live| !live.has_ended())
            .ok_or(ServiceError::NotFound("live session"))
    }

    /// Attaches a browser of the actor to a live session they are in (its
    /// creator or an invited user), while they hold the grant; an admin who
    /// is not in it attaches as a read-only monitor.
    pub async fn attach_terminal(
        &self,
        actor: &Actor,
        id: OmSessionId,
    ) -> Result<Attachment, ServiceError> {
        let record = self.session_record(actor, id).await?;
        if let Some((code, _)) = record.ended {
            return Err(ServiceError::Ended(
                SessionEnd::from_code(&code).unwrap_or(SessionEnd::ServerStopped),
            ));
        }
        let session = self
            .live
            .get(id)
            .ok_or(ServiceError::NotFound("live session"))?;
        let attachment = session
            .attach(
                actor.id,
                actor.display_name.clone(),
                record.viewer_is_monitor,
            )
            .await
            .ok_or(ServiceError::Forbidden)?;
        if attachment.monitoring {
            tracing::info!(session = %id, user = %actor.username, "monitoring a session");
            let entry = AuditEntry::by(actor, AuditKind::SessionMonitored);
            self.audit(entry.session(id)).await;
        }
        Ok(attachment)
    }

    /// The session as its page shows it: to its creator, and to invited
    /// users while they are in it, while they hold the grant; to users its
    /// owner added by name. Admins see any session without a grant, as
    /// monitors when not in it.
    pub async fn session_record(
        &self,
        actor: &Actor,
        id: OmSessionId,
    ) -> Result<OmSessionRecord, ServiceError> {
        let row = om_session::Entity::find_by_id(id.0)
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound("session"))?;
        let viewer_is_creator = row.creator_id == actor.id.0;
        let live = self.live.get(id);
        let invited = live.as_ref().is_some_and(|session| session.is_in(actor.id));
        let member = self.is_member(actor.id, id).await?;
        let viewer_is_monitor =
            match crate::session_admin::viewing(viewer_is_creator || invited || member, actor.role)
            {
                Some(viewing) => viewing == crate::session_admin::Viewing::Monitor,
                None => {
                    let object = format!("session:{id}");
                    return Err(self.deny(actor, object, ServiceError::Forbidden).await);
                }
            };
        // Users added by name work in the session without a grant of
        // their own, as monitors watch it.
        let account = match viewer_is_monitor || (member && !viewer_is_creator) {
            true => {
                self.session_account(HostAccountId(row.host_account_id))
                    .await?
            }
            false => {
                self.granted_account(actor, HostAccountId(row.host_account_id))
                    .await?
            }
        };
        let creator = user::Entity::find_by_id(row.creator_id)
            .one(&self.db)
            .await?
            .map(|user| user.username)
            .unwrap_or_default();
        let ended = row.end_reason.as_deref().map(|code| {
            let message =
                SessionEnd::from_code(code).map_or("The session ended.", |end| end.message());
            (code.to_owned(), message.to_owned())
        });
        let invitation = match viewer_is_creator || viewer_is_monitor {
            true => None,
            false => self.open_share(id).await?.map(|share| share.code),
        };
        Ok(OmSessionRecord {
            id,
            account,
            creator,
            title: row.title,
            started_at: row.started_at.to_rfc3339(),
            ends_at: row.ends_at.map(|end| end.to_rfc3339()),
            ended,
            viewer: actor.id,
            viewer_is_creator,
            viewer_is_monitor,
            invitation,
        })
    }

    /// Where and how to log in for a host account, with its secret opened.
    async fn shell_target(&self, account_id: HostAccountId) -> Result<ShellTarget, ServiceError> {
        let (account, host) = host_account::Entity::find_by_id(account_id.0)
            .find_also_related(host::Entity)
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound("host account"))?;
        let host = host.ok_or(ServiceError::NotFound("host"))?;
        let secret = self
            .secrets
            .open(&account.secret_sealed)
            .map_err(ServiceError::Internal)?;
        let secret =
            String::from_utf8(secret).map_err(|error| ServiceError::Internal(error.into()))?;
        let kind = SecretKind::parse(&account.secret_kind)
            .map_err(|error| ServiceError::Internal(error.into()))?;
        let stored = |error: domain::ValidationError| ServiceError::Internal(error.into());
        Ok(ShellTarget {
            address: HostAddress::parse(&host.address).map_err(stored)?,
            port: Port::new(u16::try_from(host.port).unwrap_or_default()).map_err(stored)?,
            fingerprint: Fingerprint::parse(&host.host_key_fingerprint).map_err(stored)?,
            login: account.login,
            credential: match kind {
                SecretKind::Password => Credential::Password(secret),
                SecretKind::PrivateKey => Credential::PrivateKey(secret),
            },
        })
    }

    /// Ends every live session, as when the server shuts down.
    pub async fn end_all_sessions(&self, end: SessionEnd) {
        for session in self.live.all() {
            self.end_session(session.id, end.clone()).await;
        }
    }
}

/// How a session that ended for `end` is stored.
pub(crate) fn ended_status(end: &SessionEnd) -> SessionStatus {
    match end.is_failure() {
        true => SessionStatus::Failed,
        false => SessionStatus::Ended,
    }
}

/// The live sessions' link to the rest of Tandem: the clock, and the
/// storage work after an outcome of a session's driver.
struct SessionHost(Services);

impl Host for SessionHost {
    fn now(&self) -> Now {
        Now {
            instant: std::time::Instant::now(),
            wall: self.0.now(),
        }
    }

    async fn settle(&self, id: OmSessionId, creator: UserId, outcome: Outcome) {
        match outcome {
            Outcome::Ended(end) => self.0.session_ended(id, creator, end).await,
            Outcome::TimedOut(users) => {
                for user in users {
                    let entry = AuditEntry::concerning(user, AuditKind::ControlTimedOut);
                    self.0.audit(entry.session(id)).await;
                }
            }
        }
    }
}
