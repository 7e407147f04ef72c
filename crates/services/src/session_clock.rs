//! The clock of scheduled sessions: once a second it opens those whose
//! start has come, and ends those whose whole window passed while Tandem
//! was down. What is due is decided by `SessionWindow::due`; this only acts
//! on it. A live session's own driver warns of its window's end and ends
//! it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use db::entities::{om_session, session_member, user};
use domain::{OmSessionId, SessionEnd, SessionStatus, SessionWindow, WindowDue};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::users::actor_from;
use crate::{ServiceError, Services};

const TICK: Duration = Duration::from_secs(1);

impl Services {
    /// Runs the clock until the process ends.
    pub(crate) fn spawn_clock(&self) {
        let services = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(TICK);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if let Err(error) = services.tick(services.now()).await {
                    tracing::error!(?error, "the session clock failed");
                }
            }
        });
    }

    async fn tick(&self, now: DateTime<Utc>) -> Result<(), ServiceError> {
        let due = om_session::Entity::find()
            .filter(om_session::Column::State.eq(SessionStatus::Scheduled.as_str()))
            .filter(om_session::Column::StartedAt.lte(now))
            .all(&self.db)
            .await?;
        for row in due {
            let id = OmSessionId(row.id);
            match window_of(&row).due(SessionStatus::Scheduled, now) {
                Some(WindowDue::Start) => self.start_scheduled(row).await?,
                // Tandem was down for its whole window.
                Some(WindowDue::End) if self.leave_scheduled(id, SessionStatus::Ended).await? => {
                    let end = SessionEnd::WindowOver;
                    self.store_end(id, &end).await?;
                    self.audit_end(domain::UserId(row.creator_id), id, &end)
                        .await;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Opens a scheduled session whose start has come, as its owner, who
    /// must still hold the grant.
    async fn start_scheduled(&self, row: om_session::Model) -> Result<(), ServiceError> {
        let id = OmSessionId(row.id);
        // A Cancel that came first wins; so does another node's clock.
        if !self.leave_scheduled(id, SessionStatus::Active).await? {
            return Ok(());
        }
        let owner = user::Entity::find_by_id(row.creator_id)
            .one(&self.db)
            .await?
            .filter(|owner| !owner.disabled)
            .map(actor_from)
            .transpose()?;
        let account = match &owner {
            Some(owner) => self
                .granted_account(owner, domain::HostAccountId(row.host_account_id))
                .await
                .ok(),
            None => None,
        };
        let (Some(owner), Some(account)) = (owner, account) else {
            let end = SessionEnd::NotPermitted;
            self.store_end(id, &end).await?;
            self.audit_end(domain::UserId(row.creator_id), id, &end)
                .await;
            return Ok(());
        };
        let window = window_of(&row);
        if let Err(error) = self.launch(&owner, id, &account, window, false).await {
            tracing::error!(session = %id, ?error, "a scheduled session did not start");
            // An end of its own (R_500) is stored already.
            if !matches!(error, ServiceError::Ended(_)) {
                let end = SessionEnd::ConnectionFailed;
                self.store_end(id, &end).await?;
                self.audit_end(owner.id, id, &end).await;
            }
            return Ok(());
        }
        let members = session_member::Entity::find()
            .filter(session_member::Column::OmSessionId.eq(id.0))
            .all(&self.db)
            .await?;
        for member in members {
            let text = format!(
                "{} ({}) is active: View it on My Sessions.",
                row.title, owner.username
            );
            self.notify(domain::UserId(member.user_id), text, None)
                .await?;
        }
        Ok(())
    }

    /// Moves a scheduled session on to `status`, unless something else
    /// did first. Returns whether this call did.
    pub(crate) async fn leave_scheduled(
        &self,
        id: OmSessionId,
        status: SessionStatus,
    ) -> Result<bool, ServiceError> {
        let moved = om_session::Entity::update_many()
            .col_expr(om_session::Column::State, status.as_str().into())
            .filter(om_session::Column::Id.eq(id.0))
            .filter(om_session::Column::State.eq(SessionStatus::Scheduled.as_str()))
            .exec(&self.db)
            .await?;
        Ok(moved.rows_affected == 1)
    }
}

/// A stored session's window; sessions from before windows end when they
/// started, which only matters to rows that are long over.
pub(crate) fn window_of(row: &om_session::Model) -> SessionWindow {
    SessionWindow {
        start: row.started_at,
        end: row.ends_at.unwrap_or(row.started_at),
    }
}
