//! Notifications: the bell's list in the app and, when SMTP is configured
//! and the user has an email address, an email. A notification is stored
//! before any email is tried, so a mail server that is down loses nothing
//! but the email, which is logged.

use db::entities::{notification, om_session, user};
use domain::{NotificationRecord, OmSessionId, UserId};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::mail::Email;
use crate::{Actor, ServiceError, Services};

/// Where every notification leads.
const MY_SESSIONS: &str = "/my-sessions";
/// Notifications the bell lists, newest first.
const LISTED: u64 = 20;

/// An email to send with a notification.
pub(crate) enum Mail {
    SessionShared {
        sharer: String,
        session: om_session::Model,
        note: String,
    },
}

impl Services {
    pub(crate) async fn notify(
        &self,
        user: UserId,
        text: String,
        mail: Option<Mail>,
    ) -> Result<(), ServiceError> {
        notification::ActiveModel {
            user_id: Set(user.0),
            text: Set(text),
            link: Set(MY_SESSIONS.to_owned()),
            created_at: Set(self.now()),
            read_at: Set(None),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        let (Some(mailer), Some(mail)) = (self.mailer.clone(), mail) else {
            return Ok(());
        };
        let Some(to) = user::Entity::find_by_id(user.0)
            .one(&self.db)
            .await?
            .and_then(|user| user.email)
        else {
            return Ok(());
        };
        let email = self.compose(mail).await?;
        tokio::spawn(async move {
            if let Err(error) = mailer.send(&to, email).await {
                tracing::error!(%to, error = format!("{error:#}"), "sending an email failed");
            }
        });
        Ok(())
    }

    async fn compose(&self, mail: Mail) -> Result<Email, ServiceError> {
        match mail {
            Mail::SessionShared {
                sharer,
                session,
                note,
            } => {
                let target = self.session_label(OmSessionId(session.id)).await?;
                let link = format!(
                    "{}{MY_SESSIONS}",
                    self.config.public_url.trim_end_matches('/')
                );
                let end = session.ends_at.map_or_else(String::new, |end| {
                    end.format("%Y-%m-%d %H:%M UTC").to_string()
                });
                let mut body = format!(
                    "{sharer} shared a session with you on Tandem.\n\n\
                     Session: {title}\n\
                     Host: {target}\n\
                     Start: {start}\n\
                     End: {end}\n\
                     Owner: {sharer}\n",
                    title = session.title,
                    start = session.started_at.format("%Y-%m-%d %H:%M UTC"),
                );
                if !note.is_empty() {
                    body.push_str(&format!("\nNote from {sharer}:\n{note}\n"));
                }
                body.push_str(&format!(
                    "\nOpen My Sessions to view it when it is active:\n{link}\n"
                ));
                Ok(Email {
                    subject: format!("{sharer} shared the session {} with you", session.title),
                    body,
                })
            }
        }
    }

    /// The bell: the latest notifications and how many are unread.
    pub async fn notifications(
        &self,
        actor: &Actor,
    ) -> Result<(Vec<NotificationRecord>, u64), ServiceError> {
        let mine = notification::Entity::find().filter(notification::Column::UserId.eq(actor.id.0));
        let unread = mine
            .clone()
            .filter(notification::Column::ReadAt.is_null())
            .count(&self.db)
            .await?;
        let rows = mine
            .order_by_desc(notification::Column::Id)
            .limit(LISTED)
            .all(&self.db)
            .await?;
        let records = rows
            .into_iter()
            .map(|row| NotificationRecord {
                id: row.id,
                text: row.text,
                link: row.link,
                created_at: row.created_at.to_rfc3339(),
                read: row.read_at.is_some(),
            })
            .collect();
        Ok((records, unread))
    }

    /// Opening the bell's list marks everything in it read.
    pub async fn mark_notifications_read(&self, actor: &Actor) -> Result<(), ServiceError> {
        notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, self.now().into())
            .filter(notification::Column::UserId.eq(actor.id.0))
            .filter(notification::Column::ReadAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(())
    }
}
