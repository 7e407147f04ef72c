//! My Dashboard > My Sessions: the active and scheduled sessions I own or
//! that were shared with me, and what only their owner may do to them:
//! Extend, Stop, Cancel.

use chrono::Duration;
use db::entities::{host, host_account, om_session, session_member, user};
use domain::{
    AuditKind, MemberRecord, MySessionRecord, OmSessionId, OwnerAction, SessionEnd, SessionStatus,
    UserId, shared_title,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};

use crate::audit::AuditEntry;
use crate::session_clock::window_of;
use crate::{Actor, ServiceError, Services};

/// What My Sessions lists: what has not happened yet, what runs, and a
/// start that failed, until its window is over.
const LISTED: [SessionStatus; 3] = [
    SessionStatus::Scheduled,
    SessionStatus::Active,
    SessionStatus::Failed,
];

impl Services {
    /// A session of the actor's that allows `action`; anyone else is
    /// refused (and audited), even when they may view it.
    pub(crate) async fn owned_session(
        &self,
        actor: &Actor,
        id: OmSessionId,
        action: OwnerAction,
    ) -> Result<om_session::Model, ServiceError> {
        let row = om_session::Entity::find_by_id(id.0)
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound("session"))?;
        if row.creator_id != actor.id.0 {
            let object = format!("session:{id}");
            return Err(self.deny(actor, object, ServiceError::NotCreator).await);
        }
        action
            .check(status_of(&row))
            .map_err(|error| ServiceError::Conflict(error.to_string()))?;
        Ok(row)
    }

    /// Extend: moves the end of the window `by` later.
    pub async fn extend_session(
        &self,
        actor: &Actor,
        id: OmSessionId,
        by: Duration,
    ) -> Result<(), ServiceError> {
        let row = self.owned_session(actor, id, OwnerAction::Extend).await?;
        let window = window_of(&row)
            .extended(self.now(), by)
            .map_err(|error| match error {
                domain::WindowError::Invalid(error) => ServiceError::Invalid(error),
                other => ServiceError::Conflict(other.to_string()),
            })?;
        om_session::ActiveModel {
            id: Set(id.0),
            ends_at: Set(Some(window.end)),
            ..Default::default()
        }
        .update(&self.db)
        .await?;
        if let Some(live) = self.live.get(id) {
            live.set_window(window).await;
        }
        let entry = AuditEntry::by(actor, AuditKind::SessionExtended).session(id);
        self.audit(entry.detail(window.end.to_rfc3339())).await;
        Ok(())
    }

    /// Stop: ends an active session for everyone, as the owner's Exit
    /// session does.
    pub async fn stop_session(&self, actor: &Actor, id: OmSessionId) -> Result<(), ServiceError> {
        self.owned_session(actor, id, OwnerAction::Stop).await?;
        self.end_session(id, SessionEnd::ClosedByCreator).await;
        Ok(())
    }

    /// Cancel: a scheduled session will not start.
    pub async fn cancel_session(&self, actor: &Actor, id: OmSessionId) -> Result<(), ServiceError> {
        let row = self.owned_session(actor, id, OwnerAction::Cancel).await?;
        // The clock may have started it since it was read.
        if !self.leave_scheduled(id, SessionStatus::Cancelled).await? {
            return Err(ServiceError::Conflict(
                "the session has just started; stop it instead".to_owned(),
            ));
        }
        om_session::ActiveModel {
            id: Set(id.0),
            ended_at: Set(Some(self.now())),
            ..Default::default()
        }
        .update(&self.db)
        .await?;
        self.audit(AuditEntry::by(actor, AuditKind::SessionCancelled).session(id))
            .await;
        for member in self.member_rows(id).await? {
            let text = format!("{} ({}) was cancelled.", row.title, actor.username);
            self.notify(UserId(member.user_id), text, None).await?;
        }
        Ok(())
    }

    /// My Sessions: mine first, then those shared with me, each by start.
    pub async fn my_sessions(&self, actor: &Actor) -> Result<Vec<MySessionRecord>, ServiceError> {
        let listed = LISTED.map(SessionStatus::as_str);
        let now = self.now();
        let owned = om_session::Entity::find()
            .filter(om_session::Column::CreatorId.eq(actor.id.0))
            .filter(om_session::Column::State.is_in(listed))
            .filter(om_session::Column::EndsAt.gt(now))
            .order_by_asc(om_session::Column::StartedAt)
            .all(&self.db)
            .await?;
        let shared_ids: Vec<i64> = session_member::Entity::find()
            .filter(session_member::Column::UserId.eq(actor.id.0))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|member| member.om_session_id)
            .collect();
        let shared = om_session::Entity::find()
            .filter(om_session::Column::Id.is_in(shared_ids))
            .filter(
                om_session::Column::State.is_in(LISTED[..2].iter().map(|status| status.as_str())),
            )
            .order_by_asc(om_session::Column::StartedAt)
            .all(&self.db)
            .await?;
        let mut rows = Vec::with_capacity(owned.len() + shared.len());
        for row in owned.into_iter().chain(shared) {
            rows.push(self.my_session_record(actor, row).await?);
        }
        Ok(rows)
    }

    async fn my_session_record(
        &self,
        actor: &Actor,
        row: om_session::Model,
    ) -> Result<MySessionRecord, ServiceError> {
        let id = OmSessionId(row.id);
        let viewer_is_owner = row.creator_id == actor.id.0;
        let owner = user::Entity::find_by_id(row.creator_id)
            .one(&self.db)
            .await?
            .map(|owner| owner.username)
            .unwrap_or_default();
        let (account, host) = host_account::Entity::find_by_id(row.host_account_id)
            .find_also_related(host::Entity)
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound("host account"))?;
        let status = status_of(&row);
        let failure = match status {
            SessionStatus::Failed => row.end_reason.as_deref().map(|code| {
                let message = SessionEnd::from_code(code).map_or("", |end| end.message());
                (code.to_owned(), message.to_owned())
            }),
            _ => None,
        };
        Ok(MySessionRecord {
            id,
            title: match viewer_is_owner {
                true => row.title.clone(),
                false => shared_title(&row.title, &owner),
            },
            host_name: host.map(|host| host.name).unwrap_or_default(),
            login: account.login,
            status,
            start: row.started_at.to_rfc3339(),
            end: row.ends_at.map(|end| end.to_rfc3339()),
            owner,
            viewer_is_owner,
            members: match viewer_is_owner {
                true => self.members(id).await?,
                false => Vec::new(),
            },
            failure,
        })
    }

    pub(crate) async fn member_rows(
        &self,
        id: OmSessionId,
    ) -> Result<Vec<session_member::Model>, ServiceError> {
        Ok(members_of(id).all(&self.db).await?)
    }

    /// The Shared with list.
    async fn members(&self, id: OmSessionId) -> Result<Vec<MemberRecord>, ServiceError> {
        let rows = members_of(id)
            .find_also_related(user::Entity)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(member, user)| {
                user.map(|user| MemberRecord {
                    user: UserId(member.user_id),
                    username: user.username,
                    display_name: user.display_name,
                })
            })
            .collect())
    }
}

fn members_of(id: OmSessionId) -> sea_orm::Select<session_member::Entity> {
    session_member::Entity::find()
        .filter(session_member::Column::OmSessionId.eq(id.0))
        .order_by_asc(session_member::Column::Id)
}

pub(crate) fn status_of(row: &om_session::Model) -> SessionStatus {
    SessionStatus::parse(&row.state).unwrap_or(SessionStatus::Ended)
}
