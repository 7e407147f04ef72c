//! Share Session (named users): the owner finds registered users, within
//! the session's project or, after confirming their password, among
//! everyone, and adds them with a note. Users outside the project need a
//! Session Use answer. Added users are notified, see the session on My
//! Sessions and View it while it is active.

use std::collections::HashSet;
use std::net::IpAddr;
use std::time::Instant;

use db::entities::{grant, host, host_account, om_session, session_member, user};
use domain::{AuditKind, OmSessionId, OwnerAction, SessionUse, ShareNote, UserId, UserMatch};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::audit::AuditEntry;
use crate::notifications::Mail;
use crate::{Actor, ServiceError, Services, passwords};

/// Matches shown per search.
const SEARCH_LIMIT: u64 = 20;

/// Who the owner asks to add, and why.
pub struct NamedShare {
    pub users: Vec<UserId>,
    pub note: String,
    /// Needed when any user is outside the session's project.
    pub session_use: Option<SessionUse>,
    /// The owner's password: needed to add users outside the project.
    pub password: String,
}

impl Services {
    /// Searches registered, enabled users by user ID, name or email, in
    /// the session's project, or among everyone when the owner confirms
    /// their password (`everyone`).
    pub async fn search_users(
        &self,
        actor: &Actor,
        id: OmSessionId,
        query: &str,
        everyone: Option<&str>,
    ) -> Result<Vec<UserMatch>, ServiceError> {
        let query = domain::SearchQuery::parse(query)?;
        let session = self.owned_session(actor, id, OwnerAction::Share).await?;
        if let Some(password) = everyone {
            self.confirm_password(actor, id, password).await?;
            let entry = AuditEntry::by(actor, AuditKind::UserSearchWidened).session(id);
            self.audit(entry).await;
        }
        let in_project = self.project_users(&session).await?;
        // Lowercased on both sides: LIKE ignores case on SQLite only.
        let pattern = LikeExpr::new(format!("%{}%", escape_like(query.as_str()))).escape('\\');
        let mut matches = Condition::any();
        for column in [
            user::Column::Username,
            user::Column::DisplayName,
            user::Column::Email,
        ] {
            matches = matches.add(Expr::expr(Func::lower(Expr::col(column))).like(pattern.clone()));
        }
        let mut found = user::Entity::find()
            .filter(user::Column::Disabled.eq(false))
            .filter(user::Column::Id.ne(actor.id.0))
            .filter(matches)
            .order_by_asc(user::Column::Username);
        if everyone.is_none() {
            found = found.filter(user::Column::Id.is_in(in_project.iter().copied()));
        }
        let users = found.limit(SEARCH_LIMIT).all(&self.db).await?;
        Ok(users
            .into_iter()
            .map(|user| UserMatch {
                id: UserId(user.id),
                in_project: in_project.contains(&user.id),
                username: user.username,
                display_name: user.display_name,
            })
            .collect())
    }

    /// Share: adds the users to the session, records the note and any
    /// Session Use answer, and notifies each one.
    pub async fn share_with_users(
        &self,
        actor: &Actor,
        id: OmSessionId,
        share: NamedShare,
    ) -> Result<(), ServiceError> {
        let session = self.owned_session(actor, id, OwnerAction::Share).await?;
        let note = ShareNote::parse(&share.note)?;
        if share.users.is_empty() {
            return Err(domain::ValidationError::new("users", "add at least one user").into());
        }
        let wanted: Vec<i64> = share.users.iter().map(|user| user.0).collect();
        let users = user::Entity::find()
            .filter(user::Column::Id.is_in(wanted.iter().copied()))
            .filter(user::Column::Disabled.eq(false))
            .filter(user::Column::Id.ne(actor.id.0))
            .all(&self.db)
            .await?;
        if users.len() != wanted.iter().collect::<HashSet<_>>().len() {
            return Err(ServiceError::NotFound("user"));
        }
        let in_project = self.project_users(&session).await?;
        let outside = users.iter().any(|user| !in_project.contains(&user.id));
        if outside {
            if share.session_use.is_none() {
                return Err(domain::ValidationError::new(
                    "purpose",
                    "is required: some users are outside the session's project",
                )
                .into());
            }
            self.confirm_password(actor, id, &share.password).await?;
        }
        let already: HashSet<i64> = self
            .member_rows(id)
            .await?
            .into_iter()
            .map(|member| member.user_id)
            .collect();
        let now = self.now();
        for user in users.iter().filter(|user| !already.contains(&user.id)) {
            let answer = share
                .session_use
                .as_ref()
                .filter(|_| !in_project.contains(&user.id));
            session_member::ActiveModel {
                om_session_id: Set(id.0),
                user_id: Set(user.id),
                added_by: Set(actor.id.0),
                note: Set(note.as_str().to_owned()),
                purpose: Set(answer.map(|answer| answer.purpose.clone())),
                customer: Set(answer.map(|answer| answer.customer.clone())),
                comment: Set(answer.map(|answer| answer.comment.clone())),
                added_at: Set(now),
                ..Default::default()
            }
            .insert(&self.db)
            .await?;
            let detail = match answer {
                Some(answer) => format!(
                    "session use: {}; {}; {}",
                    answer.purpose, answer.customer, answer.comment
                ),
                None => "in project".to_owned(),
            };
            let entry = AuditEntry::by(actor, AuditKind::SessionSharedWith)
                .session(id)
                .object("user", user.id);
            self.audit(entry.detail(detail)).await;
            tracing::info!(session = %id, user = %user.username, "session shared by name");
            let text = format!(
                "{} shared the session {} with you.",
                actor.username, session.title
            );
            let mail = Mail::SessionShared {
                sharer: actor.username.clone(),
                session: session.clone(),
                note: note.as_str().to_owned(),
            };
            self.notify(UserId(user.id), text, Some(mail)).await?;
        }
        Ok(())
    }

    /// Takes a user off the Shared with list; if they are in the session
    /// they are forced out.
    pub async fn remove_member(
        &self,
        actor: &Actor,
        id: OmSessionId,
        member: UserId,
    ) -> Result<(), ServiceError> {
        self.owned_session(actor, id, OwnerAction::Share).await?;
        let removed = session_member::Entity::delete_many()
            .filter(session_member::Column::OmSessionId.eq(id.0))
            .filter(session_member::Column::UserId.eq(member.0))
            .exec(&self.db)
            .await?;
        if removed.rows_affected == 0 {
            return Err(ServiceError::NotFound("member"));
        }
        if let Some(live) = self.live.get(id)
            && live.remove_member(member).await
        {
            self.record_leaving(id, Some(member)).await?;
        }
        let entry = AuditEntry::by(actor, AuditKind::MemberRemoved)
            .session(id)
            .object("user", member.0);
        self.audit(entry).await;
        Ok(())
    }

    /// View: a user the owner added comes into the active session as a
    /// participant. The owner's View just opens it.
    pub async fn view_session(
        &self,
        actor: &Actor,
        id: OmSessionId,
        address: IpAddr,
    ) -> Result<(), ServiceError> {
        let live = self.live_session(id)?;
        if live.creator == actor.id {
            return Ok(());
        }
        if !self.is_member(actor.id, id).await? {
            let object = format!("session:{id}");
            return Err(self.deny(actor, object, ServiceError::Forbidden).await);
        }
        if live
            .enter_as_member(actor.id, actor.display_name.clone())
            .await
        {
            self.record_entry(actor, id, None, address).await?;
            tracing::info!(session = %id, user = %actor.username, "viewing a session shared by name");
            let entry = AuditEntry::by(actor, AuditKind::Joined).session(id);
            self.audit(entry.detail("named share")).await;
        }
        Ok(())
    }

    pub(crate) async fn is_member(
        &self,
        user: UserId,
        id: OmSessionId,
    ) -> Result<bool, ServiceError> {
        Ok(session_member::Entity::find()
            .filter(session_member::Column::OmSessionId.eq(id.0))
            .filter(session_member::Column::UserId.eq(user.0))
            .one(&self.db)
            .await?
            .is_some())
    }

    /// The users who hold a grant on any host account in the session's
    /// project: its members.
    async fn project_users(
        &self,
        session: &om_session::Model,
    ) -> Result<HashSet<i64>, ServiceError> {
        let project = host_account::Entity::find_by_id(session.host_account_id)
            .find_also_related(host::Entity)
            .one(&self.db)
            .await?
            .and_then(|(_, host)| host)
            .ok_or(ServiceError::NotFound("host"))?
            .project_id;
        let hosts: Vec<i64> = host::Entity::find()
            .filter(host::Column::ProjectId.eq(project))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|host| host.id)
            .collect();
        let accounts: Vec<i64> = host_account::Entity::find()
            .filter(host_account::Column::HostId.is_in(hosts))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|account| account.id)
            .collect();
        Ok(grant::Entity::find()
            .filter(grant::Column::HostAccountId.is_in(accounts))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|grant| grant.user_id)
            .collect())
    }

    /// The owner's own password before anyone outside the session's project
    /// is searched for or added, rate limited as signing in is: failures
    /// count towards the same lockout, and are audited as denied.
    async fn confirm_password(
        &self,
        actor: &Actor,
        id: OmSessionId,
        password: &str,
    ) -> Result<(), ServiceError> {
        let key = actor.username.clone();
        let address = actor
            .address
            .map(|address| address.to_string())
            .unwrap_or_default();
        let allowed = self
            .login_limiter
            .lock()
            .map(|limiter| limiter.allows(&key, &address, Instant::now()))
            .unwrap_or(false);
        let hash = user::Entity::find_by_id(actor.id.0)
            .one(&self.db)
            .await?
            .map(|user| user.password_hash)
            .ok_or(ServiceError::NotFound("user"))?;
        if allowed && passwords::verify(password.to_owned(), hash).await? {
            if let Ok(mut limiter) = self.login_limiter.lock() {
                limiter.record_success(&key);
            }
            return Ok(());
        }
        if let Ok(mut limiter) = self.login_limiter.lock() {
            limiter.record_failure(&key, &address, Instant::now());
        }
        let entry = AuditEntry::by(actor, AuditKind::UserSearchWidened).session(id);
        self.audit(entry.denied().detail("wrong password")).await;
        Err(match allowed {
            true => domain::ValidationError::new("password", "is not your password"),
            false => {
                domain::ValidationError::new("password", "too many wrong attempts; try again later")
            }
        }
        .into())
    }
}

/// `text` with LIKE's wildcards taken literally (escaped with `\`).
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}
