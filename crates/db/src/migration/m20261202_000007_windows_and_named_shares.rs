//! Session windows and titles, users' email addresses, named shares
//! (session members) and in-app notifications.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE. `started_at` becomes the
        // start of the window; sessions from before windows have no end.
        for (table, column) in [
            ("om_sessions", string("title").default("").to_owned()),
            ("om_sessions", timestamp_with_time_zone_null("ends_at")),
            ("users", string_null("email")),
        ] {
            manager
                .alter_table(Table::alter().table(table).add_column(column).to_owned())
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("om_sessions_state_started")
                    .table("om_sessions")
                    .col("state")
                    .col("started_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("om_sessions_creator")
                    .table("om_sessions")
                    .col("creator_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("session_members")
                    .col(big_pk_auto("id"))
                    .col(big_integer("om_session_id"))
                    .col(big_integer("user_id"))
                    .col(big_integer("added_by"))
                    .col(text("note"))
                    // The Session Use answer, when the user is outside the
                    // session's project.
                    .col(string_null("purpose"))
                    .col(string_null("customer"))
                    .col(text_null("comment"))
                    .col(timestamp_with_time_zone("added_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("session_members", "om_session_id")
                            .to("om_sessions", "id"),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("session_members", "user_id")
                            .to("users", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("session_members_session_user")
                    .table("session_members")
                    .col("om_session_id")
                    .col("user_id")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("session_members_user")
                    .table("session_members")
                    .col("user_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("notifications")
                    .col(big_pk_auto("id"))
                    .col(big_integer("user_id"))
                    .col(text("text"))
                    .col(string("link"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("read_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("notifications", "user_id")
                            .to("users", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("notifications_user")
                    .table("notifications")
                    .col("user_id")
                    .col("id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["notifications", "session_members"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for index in ["om_sessions_creator", "om_sessions_state_started"] {
            manager
                .drop_index(Index::drop().name(index).table("om_sessions").to_owned())
                .await?;
        }
        for (table, column) in [
            ("users", "email"),
            ("om_sessions", "ends_at"),
            ("om_sessions", "title"),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
