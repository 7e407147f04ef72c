//! Schema migrations, applied in order at start. Each file freezes its own
//! copy of the schema it creates: never edit one that has shipped.

use sea_orm_migration::prelude::*;

mod m20261125_000001_foundation;
mod m20261125_000002_om_sessions;
mod m20261125_000003_shares;
mod m20261125_000004_api_tokens;
mod m20261125_000005_recordings;
mod m20261201_000006_audit_events;
mod m20261202_000007_windows_and_named_shares;
mod m20261202_000008_audit_time_order;
mod m20261203_000009_hashed_web_sessions;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_foundation::Migration),
            Box::new(m20261125_000002_om_sessions::Migration),
            Box::new(m20261125_000003_shares::Migration),
            Box::new(m20261125_000004_api_tokens::Migration),
            Box::new(m20261125_000005_recordings::Migration),
            Box::new(m20261201_000006_audit_events::Migration),
            Box::new(m20261202_000007_windows_and_named_shares::Migration),
            Box::new(m20261202_000008_audit_time_order::Migration),
            Box::new(m20261203_000009_hashed_web_sessions::Migration),
        ]
    }
}
