//! The control actions of a shared session (Apply for control, Agree,
//! Refuse, Release control, taking control back, Exit session), for server
//! functions. The rules themselves are in `domain::Control`.

use std::sync::Arc;

use domain::{AuditKind, OmSessionId, SessionEnd, UserId};

use crate::audit::AuditEntry;
use crate::terminal::LiveSession;
use crate::{Actor, ServiceError, Services};

impl Services {
    /// A live session the actor is in.
    async fn joined_live_session(
        &self,
        actor: &Actor,
        id: OmSessionId,
    ) -> Result<Arc<LiveSession>, ServiceError> {
        let live = self.live_session(id)?;
        if !live.is_in(actor.id) {
            let object = format!("session:{id}");
            return Err(self.deny(actor, object, ServiceError::Forbidden).await);
        }
        Ok(live)
    }

    async fn audit_control(&self, actor: &Actor, id: OmSessionId, kind: AuditKind) {
        self.audit(AuditEntry::by(actor, kind).session(id)).await;
    }

    /// Apply for control. A request nobody answers lapses after the
    /// configured timeout and the requester is told.
    pub async fn request_control(
        &self,
        actor: &Actor,
        id: OmSessionId,
    ) -> Result<(), ServiceError> {
        let live = self.joined_live_session(actor, id).await?;
        live.request_control(actor.id).await?;
        tracing::info!(session = %id, user = %actor.username, "control requested");
        self.audit_control(actor, id, AuditKind::ControlRequested)
            .await;
        Ok(())
    }

    /// Agree (`agree`) or Refuse a pending request for control.
    pub async fn answer_control_request(
        &self,
        actor: &Actor,
        id: OmSessionId,
        requester: UserId,
        agree: bool,
    ) -> Result<(), ServiceError> {
        let live = self.joined_live_session(actor, id).await?;
        let kind = if agree {
            live.agree(actor.id, requester).await?;
            AuditKind::ControlAgreed
        } else {
            live.refuse(actor.id, requester).await?;
            AuditKind::ControlRefused
        };
        tracing::info!(session = %id, user = %actor.username, %requester, agree, "control request answered");
        let entry = AuditEntry::by(actor, kind).session(id);
        self.audit(entry.object("user", requester)).await;
        Ok(())
    }

    pub async fn release_control(
        &self,
        actor: &Actor,
        id: OmSessionId,
    ) -> Result<(), ServiceError> {
        self.joined_live_session(actor, id)
            .await?
            .release_control(actor.id)
            .await?;
        tracing::info!(session = %id, user = %actor.username, "control released");
        self.audit_control(actor, id, AuditKind::ControlReleased)
            .await;
        Ok(())
    }

    pub async fn take_control_back(
        &self,
        actor: &Actor,
        id: OmSessionId,
    ) -> Result<(), ServiceError> {
        self.joined_live_session(actor, id)
            .await?
            .take_control_back(actor.id)
            .await?;
        tracing::info!(session = %id, user = %actor.username, "control taken back");
        self.audit_control(actor, id, AuditKind::ControlTakenBack)
            .await;
        Ok(())
    }

    /// Exit session: the creator's ends the session for everyone (rule 9);
    /// an invited user's takes only them out (rule 7).
    pub async fn exit_session(&self, actor: &Actor, id: OmSessionId) -> Result<(), ServiceError> {
        let live = self.joined_live_session(actor, id).await?;
        if live.creator == actor.id {
            self.end_session(id, SessionEnd::ClosedByCreator).await;
        } else if live.leave(actor.id).await {
            self.record_leaving(id, Some(actor.id)).await?;
            tracing::info!(session = %id, user = %actor.username, "left a shared session");
            self.audit_control(actor, id, AuditKind::Exited).await;
        }
        Ok(())
    }
}
