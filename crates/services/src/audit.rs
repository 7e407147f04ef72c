//! The audit log: every audited action adds one row, and admins search and
//! export them. Nothing here updates or deletes a row.

use std::fmt::Display;
use std::net::IpAddr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use db::entities::{audit_event, host_account, om_session, user};
use domain::{
    AUDIT_PAGE_SIZE, AuditKind, AuditOutcome, AuditPage, AuditQuery, AuditRecord, HostId,
    OmSessionId, UserId, ValidationError,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

use crate::{Actor, Admin, ServiceError, Services};

/// One event about to be recorded.
#[derive(Debug, Clone)]
pub(crate) struct AuditEntry {
    kind: AuditKind,
    outcome: AuditOutcome,
    actor_id: Option<UserId>,
    /// Empty when only the id is known; filled in from the user on insert.
    actor: String,
    address: Option<IpAddr>,
    session: Option<OmSessionId>,
    host: Option<HostId>,
    object: String,
    detail: String,
}

impl AuditEntry {
    /// Something the signed-in `actor` did, from where they are.
    pub(crate) fn by(actor: &Actor, kind: AuditKind) -> Self {
        Self {
            actor_id: Some(actor.id),
            actor: actor.username.clone(),
            address: actor.address,
            ..Self::unattributed(kind)
        }
    }

    /// Something done with an admin's proof: the admin, or the command line.
    pub(crate) fn by_admin(admin: Admin, kind: AuditKind) -> Self {
        match admin.user() {
            Some(user) => Self {
                actor_id: Some(user),
                address: admin.address(),
                ..Self::unattributed(kind)
            },
            None => Self {
                actor: "command line".to_owned(),
                ..Self::unattributed(kind)
            },
        }
    }

    /// Something nobody signed in did: a failed login under the name that
    /// was typed, a rejected API token.
    pub(crate) fn anonymous(name: &str, address: Option<IpAddr>, kind: AuditKind) -> Self {
        Self {
            actor: name.to_owned(),
            address,
            ..Self::unattributed(kind)
        }
    }

    /// Something that happened to a user without an action of theirs (a
    /// request timing out, a session ending).
    pub(crate) fn concerning(user: UserId, kind: AuditKind) -> Self {
        Self {
            actor_id: Some(user),
            ..Self::unattributed(kind)
        }
    }

    fn unattributed(kind: AuditKind) -> Self {
        Self {
            kind,
            outcome: AuditOutcome::Success,
            actor_id: None,
            actor: String::new(),
            address: None,
            session: None,
            host: None,
            object: String::new(),
            detail: String::new(),
        }
    }

    pub(crate) fn session(self, session: OmSessionId) -> Self {
        Self {
            session: Some(session),
            object: match self.object.is_empty() {
                true => format!("session:{session}"),
                false => self.object,
            },
            ..self
        }
    }

    pub(crate) fn host(self, host: HostId) -> Self {
        Self {
            host: Some(host),
            ..self
        }
    }

    /// The object acted on, as `kind:id`.
    pub(crate) fn object(self, kind: &str, id: impl Display) -> Self {
        Self {
            object: format!("{kind}:{id}"),
            ..self
        }
    }

    pub(crate) fn denied(self) -> Self {
        Self {
            outcome: AuditOutcome::Denied,
            ..self
        }
    }

    pub(crate) fn failed(self) -> Self {
        Self {
            outcome: AuditOutcome::Failed,
            ..self
        }
    }

    pub(crate) fn detail(self, detail: impl Into<String>) -> Self {
        Self {
            detail: detail.into(),
            ..self
        }
    }
}

impl Services {
    /// Adds one row to the audit log. A failure to write it is logged: the
    /// action it records has already happened.
    pub(crate) async fn audit(&self, entry: AuditEntry) {
        let kind = entry.kind;
        if let Err(error) = self.insert_audit(entry).await {
            tracing::error!(%kind, ?error, "writing the audit log failed");
        }
    }

    async fn insert_audit(&self, mut entry: AuditEntry) -> Result<(), ServiceError> {
        if entry.actor.is_empty()
            && let Some(id) = entry.actor_id
        {
            entry.actor = user::Entity::find_by_id(id.0)
                .one(&self.db)
                .await?
                .map(|user| user.username)
                .unwrap_or_default();
        }
        if entry.host.is_none()
            && let Some(session) = entry.session
        {
            entry.host = self.host_of_session(session).await?;
        }
        audit_event::ActiveModel {
            at: Set(self.now()),
            actor_id: Set(entry.actor_id.map(|id| id.0)),
            actor: Set(entry.actor),
            address: Set(entry.address.map(|ip| ip.to_string()).unwrap_or_default()),
            kind: Set(entry.kind.as_str().to_owned()),
            session_id: Set(entry.session.map(|id| id.0)),
            host_id: Set(entry.host.map(|id| id.0)),
            object: Set(entry.object),
            outcome: Set(entry.outcome.as_str().to_owned()),
            detail: Set(entry.detail),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }

    async fn host_of_session(&self, id: OmSessionId) -> Result<Option<HostId>, ServiceError> {
        let Some(session) = om_session::Entity::find_by_id(id.0).one(&self.db).await? else {
            return Ok(None);
        };
        Ok(host_account::Entity::find_by_id(session.host_account_id)
            .one(&self.db)
            .await?
            .map(|account| HostId(account.host_id)))
    }

    /// Records an admin's change to a user, project, host, host account or
    /// grant.
    pub(crate) async fn audit_change(
        &self,
        admin: Admin,
        kind: AuditKind,
        object: &str,
        id: impl Display,
        change: &str,
    ) {
        let entry = AuditEntry::by_admin(admin, kind).object(object, id);
        self.audit(entry.detail(change)).await;
    }

    /// Records that `actor` was refused `object`, and returns `error` to
    /// answer with.
    pub(crate) async fn deny(
        &self,
        actor: &Actor,
        object: String,
        error: ServiceError,
    ) -> ServiceError {
        let mut entry = AuditEntry::by(actor, AuditKind::AccessDenied).denied();
        entry.object = object;
        self.audit(entry.detail(error.to_string())).await;
        error
    }

    /// The admin proof, or `Forbidden` with the refusal audited.
    pub async fn require_admin(&self, actor: &Actor, object: &str) -> Result<Admin, ServiceError> {
        match actor.require_admin() {
            Ok(admin) => Ok(admin),
            Err(error) => Err(self.deny(actor, object.to_owned(), error).await),
        }
    }

    /// One page of the audit log, newest first (by time, then id).
    pub async fn audit_page(
        &self,
        admin: Admin,
        query: &AuditQuery,
    ) -> Result<AuditPage, ServiceError> {
        let rows = self.audit_rows(admin, query, AUDIT_PAGE_SIZE + 1).await?;
        Ok(AuditPage::from_fetched(rows, AUDIT_PAGE_SIZE))
    }

    /// Up to `limit` rows matching `query`, newest first: the export reads
    /// the whole log this way, a batch at a time.
    pub async fn audit_rows(
        &self,
        _admin: Admin,
        query: &AuditQuery,
        limit: u64,
    ) -> Result<Vec<AuditRecord>, ServiceError> {
        let select = self.audit_select(query).await?;
        let rows = select
            .order_by_desc(audit_event::Column::At)
            .order_by_desc(audit_event::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        rows.into_iter().map(audit_record).collect()
    }

    async fn audit_select(
        &self,
        query: &AuditQuery,
    ) -> Result<Select<audit_event::Entity>, ServiceError> {
        use audit_event::Column;
        let mut select = audit_event::Entity::find();
        if let Some(name) = &query.user {
            // A known user by id (their rows keep it under any later name);
            // otherwise the name as typed at a failed login.
            let known = user::Entity::find()
                .filter(user::Column::Username.eq(name.as_str()))
                .one(&self.db)
                .await?;
            select = match known {
                Some(user) => select.filter(Column::ActorId.eq(user.id)),
                None => select.filter(Column::Actor.eq(name.as_str())),
            };
        }
        if let Some(session) = query.session {
            select = select.filter(Column::SessionId.eq(session.0));
        }
        if let Some(host) = query.host {
            select = select.filter(Column::HostId.eq(host.0));
        }
        if let Some(kind) = query.kind {
            select = select.filter(Column::Kind.eq(kind.as_str()));
        }
        if let Some(from) = &query.from {
            select = select.filter(Column::At.gte(parse_time("from", from)?));
        }
        if let Some(to) = &query.to {
            select = select.filter(Column::At.lt(parse_time("to", to)?));
        }
        if let Some(before) = query.before {
            // Older than that row in the page order, `(at, id)`: one index
            // range read, where `at < … OR (at = … AND id < …)` would not be.
            let last = audit_event::Entity::find_by_id(before)
                .one(&self.db)
                .await?
                .ok_or_else(|| ValidationError::new("before", "is not a row of the audit log"))?;
            select = select.filter(
                Expr::tuple([Expr::col(Column::At), Expr::col(Column::Id)])
                    .lt(Expr::tuple([Expr::value(last.at), Expr::value(last.id)])),
            );
        }
        Ok(select)
    }
}

/// The change that a Disable or Enable button made.
pub(crate) fn switched(disabled: bool) -> &'static str {
    if disabled { "disabled" } else { "enabled" }
}

/// RFC 3339, or the browser's `YYYY-MM-DDTHH:MM[:SS]` or `YYYY-MM-DD`, as
/// UTC.
fn parse_time(field: &'static str, text: &str) -> Result<DateTime<Utc>, ValidationError> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"] {
        if let Ok(time) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(time.and_utc());
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|time| time.and_utc())
        .ok_or_else(|| {
            ValidationError::new(field, "must be a date and time, e.g. 2026-12-01T09:30")
        })
}

fn audit_record(row: audit_event::Model) -> Result<AuditRecord, ServiceError> {
    let stored =
        |what: &str| ServiceError::Internal(anyhow::anyhow!("audit row {}: {what}", row.id));
    Ok(AuditRecord {
        id: row.id,
        at: row.at.to_rfc3339(),
        actor_id: row.actor_id,
        kind: AuditKind::parse(&row.kind).map_err(|_| stored("unknown kind"))?,
        outcome: AuditOutcome::parse(&row.outcome).ok_or_else(|| stored("unknown outcome"))?,
        actor: row.actor,
        address: row.address,
        session_id: row.session_id,
        host_id: row.host_id,
        object: row.object,
        detail: row.detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    async fn services() -> (Services, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            admin_password: Some("first-admin-password".to_owned()),
            ..Config::with_data_dir(dir.path())
        };
        let (services, _) = Services::start(config).await.unwrap();
        (services, dir)
    }

    /// Every id of a search, page by page, newest first.
    async fn all_pages(services: &Services, query: AuditQuery) -> Vec<i64> {
        let mut ids = Vec::new();
        let mut query = query;
        loop {
            let page = services
                .audit_page(Admin::command_line(), &query)
                .await
                .unwrap();
            assert!(page.rows.len() as u64 <= AUDIT_PAGE_SIZE);
            ids.extend(page.rows.iter().map(|row| row.id));
            match page.older {
                Some(before) => query = query.older_than(before),
                None => return ids,
            }
        }
    }

    #[tokio::test]
    async fn keyset_pages_of_a_filtered_search_hold_every_match_once_newest_first() {
        let (services, _dir) = services().await;
        let alice = services
            .create_user(
                Admin::command_line(),
                "alice",
                "Alice",
                "operator",
                "alice-password-1",
            )
            .await
            .unwrap();
        for n in 0..130_i64 {
            let kind = match n % 3 {
                0 => AuditKind::ControlRequested,
                _ => AuditKind::Joined,
            };
            let entry = AuditEntry::concerning(alice, kind).session(OmSessionId(n % 4 + 1));
            services.audit(entry).await;
        }
        let address = Some("127.1.2.3".parse().unwrap());
        services
            .audit(AuditEntry::anonymous("mallory", address, AuditKind::LoginFailed).denied())
            .await;

        let joined = AuditQuery {
            kind: Some(AuditKind::Joined),
            ..AuditQuery::default()
        };
        let ids = all_pages(&services, joined).await;
        assert_eq!(ids.len(), 86);
        assert!(ids.windows(2).all(|pair| pair[0] > pair[1]), "{ids:?}");

        let of_alice = AuditQuery {
            user: Some("alice".to_owned()),
            ..AuditQuery::default()
        };
        assert_eq!(all_pages(&services, of_alice).await.len(), 130);
        let session_two = AuditQuery {
            session: Some(OmSessionId(2)),
            kind: Some(AuditKind::ControlRequested),
            ..AuditQuery::default()
        };
        // n = 1 + 4k and n = 3j: n in {9, 21, 33, ..., 129}.
        assert_eq!(all_pages(&services, session_two).await.len(), 11);

        let mallory = AuditQuery {
            user: Some("mallory".to_owned()),
            ..AuditQuery::default()
        };
        let page = services
            .audit_page(Admin::command_line(), &mallory)
            .await
            .unwrap();
        assert_eq!(page.rows.len(), 1);
        let row = &page.rows[0];
        assert_eq!(
            (row.actor_id, row.address.as_str(), row.outcome),
            (None, "127.1.2.3", AuditOutcome::Denied)
        );
    }

    #[tokio::test]
    async fn a_time_range_includes_its_start_and_excludes_its_end() {
        let (services, _dir) = services().await;
        services
            .audit(AuditEntry::anonymous("x", None, AuditKind::LoginFailed))
            .await;
        let everything = all_pages(&services, AuditQuery::default()).await;
        let newest = services
            .audit_page(Admin::command_line(), &AuditQuery::default())
            .await
            .unwrap()
            .rows[0]
            .at
            .clone();
        let from_newest = AuditQuery {
            from: Some(newest.clone()),
            ..AuditQuery::default()
        };
        assert!(
            all_pages(&services, from_newest)
                .await
                .contains(&everything[0])
        );
        let before_newest = AuditQuery {
            to: Some(newest),
            ..AuditQuery::default()
        };
        assert!(
            !all_pages(&services, before_newest)
                .await
                .contains(&everything[0])
        );
        let bad = AuditQuery {
            from: Some("soon".to_owned()),
            ..AuditQuery::default()
        };
        assert!(matches!(
            services.audit_page(Admin::command_line(), &bad).await,
            Err(ServiceError::Invalid(_))
        ));
    }

    #[test]
    fn times_are_read_in_the_forms_browsers_send() {
        let expected = "2026-12-01T09:30:00+00:00";
        for text in [
            "2026-12-01T09:30",
            "2026-12-01T09:30:00",
            "2026-12-01T10:30:00+01:00",
        ] {
            assert_eq!(parse_time("from", text).unwrap().to_rfc3339(), expected);
        }
        assert_eq!(
            parse_time("to", "2026-12-01").unwrap().to_rfc3339(),
            "2026-12-01T00:00:00+00:00"
        );
        assert_eq!(parse_time("to", "yesterday").unwrap_err().field, "to");
    }
}
