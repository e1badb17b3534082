//! Schema migrations, one file per change, identical on SQLite and
//! PostgreSQL. The server runs them at start under a lock (see the store's
//! `migrate` module), so two nodes starting together do not race.
//!
//! This crate does not depend on the entity code: a migration describes the
//! schema as it was when written, not as the entities are today.

pub use sea_orm_migration::prelude::*;

mod m20261204_000001_identity;
mod m20261204_000002_conversations;
mod m20261204_000003_audit;
mod m20261204_000004_totp_last_step;
mod m20261204_000005_files;
mod m20261204_000006_file_renditions;
mod m20261204_000007_accepted_media;
mod m20261204_000008_sealed_file_names;
mod m20261205_000009_email_outbox;
mod m20261205_000010_notification_preferences;
mod m20261205_000011_letterbox;
mod m20261205_000012_reminders;
mod m20261205_000013_invitations;
mod m20261205_000014_marketing;
mod m20261205_000015_review_gates;
mod m20261205_000016_worker_invitations;
mod m20261205_000017_calls;
mod m20261205_000018_call_nodes;
mod m20261205_000019_agreement_call_minutes;
mod m20261205_000020_scheduled_calls;
mod m20261205_000021_audit_chain;
mod m20261205_000022_family_finding;
mod m20261205_000023_revoked_sessions;
mod m20261205_000024_case_media;
mod m20261205_000025_family_accounts;
mod m20261205_000026_community;
mod m20261205_000027_community_search;
mod m20261206_000028_community_images;
mod m20261206_000029_key_recoveries;
mod m20261206_000030_retention_sweeps;
mod m20261206_000031_profile_marks;
mod m20261206_000032_case_retention;
mod m20261206_000033_rights_requests;
mod m20261206_000034_user_marks;

/// The ordered list of migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261204_000001_identity::Migration),
            Box::new(m20261204_000002_conversations::Migration),
            Box::new(m20261204_000003_audit::Migration),
            Box::new(m20261204_000004_totp_last_step::Migration),
            Box::new(m20261204_000005_files::Migration),
            Box::new(m20261204_000006_file_renditions::Migration),
            Box::new(m20261204_000007_accepted_media::Migration),
            Box::new(m20261204_000008_sealed_file_names::Migration),
            Box::new(m20261205_000009_email_outbox::Migration),
            Box::new(m20261205_000010_notification_preferences::Migration),
            Box::new(m20261205_000011_letterbox::Migration),
            Box::new(m20261205_000012_reminders::Migration),
            Box::new(m20261205_000013_invitations::Migration),
            Box::new(m20261205_000014_marketing::Migration),
            Box::new(m20261205_000015_review_gates::Migration),
            Box::new(m20261205_000016_worker_invitations::Migration),
            Box::new(m20261205_000017_calls::Migration),
            Box::new(m20261205_000018_call_nodes::Migration),
            Box::new(m20261205_000019_agreement_call_minutes::Migration),
            Box::new(m20261205_000020_scheduled_calls::Migration),
            Box::new(m20261205_000021_audit_chain::Migration),
            Box::new(m20261205_000022_family_finding::Migration),
            Box::new(m20261205_000023_revoked_sessions::Migration),
            Box::new(m20261205_000024_case_media::Migration),
            Box::new(m20261205_000025_family_accounts::Migration),
            Box::new(m20261205_000026_community::Migration),
            Box::new(m20261205_000027_community_search::Migration),
            Box::new(m20261206_000028_community_images::Migration),
            Box::new(m20261206_000029_key_recoveries::Migration),
            Box::new(m20261206_000030_retention_sweeps::Migration),
            Box::new(m20261206_000031_profile_marks::Migration),
            Box::new(m20261206_000032_case_retention::Migration),
            Box::new(m20261206_000033_rights_requests::Migration),
            Box::new(m20261206_000034_user_marks::Migration),
        ]
    }
}
