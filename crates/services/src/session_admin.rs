//! The admin's view of sessions: the live ones on this node with who is in
//! and who watches, the past ones with how they ended, Terminate, and the
//! rule that lets an admin watch a session they are not in.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use db::entities::{host, host_account, om_session, project, user};
use domain::{
    AuditKind, GrantedAccount, HostAccountId, HostId, LiveSessionOverview, OmSessionId,
    PastSessionOverview, ProjectId, Role, SessionEnd,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::audit::AuditEntry;
use crate::{Actor, Admin, ServiceError, Services};

/// How many past sessions the Sessions page lists, newest first: enough to
/// find a recent one without loading years of history into one page.
const PAST_SESSIONS_LISTED: u64 = 200;

/// How someone looks at a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Viewing {
    /// Its creator or an invited user who is in it: the full page.
    Participant,
    /// An admin who is not in it: the screen and the panel, read-only.
    Monitor,
}

/// Whether and how a user with `role` may look at a session, given whether
/// they are in it. Operators need to be in it; admins watch any session.
pub(crate) fn viewing(is_in: bool, role: Role) -> Option<Viewing> {
    match (is_in, role) {
        (true, _) => Some(Viewing::Participant),
        (false, Role::Admin) => Some(Viewing::Monitor),
        (false, Role::Operator) => None,
    }
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Names of users and host accounts, looked up once per listing.
struct Directory {
    users: HashMap<i64, String>,
    /// Host name and login, by host account id.
    accounts: HashMap<i64, (String, String)>,
}

impl Directory {
    fn user(&self, id: i64) -> String {
        self.users.get(&id).cloned().unwrap_or_default()
    }

    fn account(&self, id: i64) -> (String, String) {
        self.accounts.get(&id).cloned().unwrap_or_default()
    }
}

impl Services {
    /// The sessions running on this node, newest first, as they are now.
    pub async fn live_sessions(
        &self,
        _admin: Admin,
    ) -> Result<Vec<LiveSessionOverview>, ServiceError> {
        let live: HashMap<i64, _> = self
            .live
            .all()
            .into_iter()
            .filter(|session| !session.has_ended())
            .map(|session| (session.id.0, session))
            .collect();
        let rows = om_session::Entity::find()
            .filter(om_session::Column::Id.is_in(live.keys().copied()))
            .order_by_desc(om_session::Column::StartedAt)
            .order_by_desc(om_session::Column::Id)
            .all(&self.db)
            .await?;
        let directory = self.directory().await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let now = live.get(&row.id)?.overview();
                let (host, account) = directory.account(row.host_account_id);
                Some(LiveSessionOverview {
                    id: OmSessionId(row.id),
                    creator: directory.user(row.creator_id),
                    host,
                    account,
                    started_at: timestamp(row.started_at),
                    participants: now.participants,
                    controller: now.controller,
                    shared: now.shared,
                    monitors: now.monitors,
                })
            })
            .collect())
    }

    /// Every user's sessions that are over, newest first (at most
    /// `PAST_SESSIONS_LISTED`).
    pub async fn all_past_sessions(
        &self,
        _admin: Admin,
    ) -> Result<Vec<PastSessionOverview>, ServiceError> {
        let rows = om_session::Entity::find()
            .filter(om_session::Column::EndReason.is_not_null())
            .order_by_desc(om_session::Column::StartedAt)
            .order_by_desc(om_session::Column::Id)
            .limit(PAST_SESSIONS_LISTED)
            .all(&self.db)
            .await?;
        let directory = self.directory().await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let (host, account) = directory.account(row.host_account_id);
                PastSessionOverview {
                    id: OmSessionId(row.id),
                    creator: directory.user(row.creator_id),
                    host,
                    account,
                    started_at: timestamp(row.started_at),
                    ended_at: row.ended_at.map(timestamp),
                    end_code: row.end_reason,
                    duration_ms: row.ended_at.and_then(|ended| {
                        u64::try_from((ended - row.started_at).num_milliseconds()).ok()
                    }),
                    recording_size: row.recording_size.and_then(|size| u64::try_from(size).ok()),
                }
            })
            .collect())
    }

    /// Terminate: ends a live session at once for everyone, like its
    /// creator's Exit session, with the administrator named in the
    /// recording.
    pub async fn terminate_session(
        &self,
        _admin: Admin,
        actor: &Actor,
        id: OmSessionId,
    ) -> Result<(), ServiceError> {
        let live = self.live_session(id)?;
        live.mark(format!("terminated by {}", actor.display_name))
            .await;
        tracing::info!(session = %id, user = %actor.username, "session terminated by an admin");
        let entry = AuditEntry::by(actor, AuditKind::SessionTerminated).session(id);
        self.audit(entry.detail(SessionEnd::TerminatedByAdmin.code()))
            .await;
        self.end_session(id, SessionEnd::TerminatedByAdmin).await;
        Ok(())
    }

    /// A session's host account as its page shows it, for a monitor, who
    /// need not hold the grant (nor it be enabled: a running session
    /// outlives a disabled account).
    pub(crate) async fn session_account(
        &self,
        id: HostAccountId,
    ) -> Result<GrantedAccount, ServiceError> {
        let (account, host) = host_account::Entity::find_by_id(id.0)
            .find_also_related(host::Entity)
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound("host account"))?;
        let host = host.ok_or(ServiceError::NotFound("host"))?;
        let project = project::Entity::find_by_id(host.project_id)
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound("project"))?;
        Ok(GrantedAccount {
            host_account_id: HostAccountId(account.id),
            project_id: ProjectId(project.id),
            project_name: project.name,
            host_id: HostId(host.id),
            host_name: host.name,
            address: host.address,
            port: u16::try_from(host.port).unwrap_or_default(),
            login: account.login,
        })
    }

    async fn directory(&self) -> Result<Directory, ServiceError> {
        let users = user::Entity::find()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|user| (user.id, user.username))
            .collect();
        let accounts = host_account::Entity::find()
            .find_also_related(host::Entity)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|(account, host)| {
                let host = host.map(|host| host.name).unwrap_or_default();
                (account.id, (host, account.login))
            })
            .collect();
        Ok(Directory { users, accounts })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admins_watch_any_session_and_operators_only_their_own() {
        assert_eq!(viewing(true, Role::Operator), Some(Viewing::Participant));
        assert_eq!(viewing(true, Role::Admin), Some(Viewing::Participant));
        assert_eq!(viewing(false, Role::Admin), Some(Viewing::Monitor));
        assert_eq!(viewing(false, Role::Operator), None);
    }
}
