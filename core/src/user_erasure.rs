//! What erasing a user record does to each row that names the user.
//!
//! Erasure has two steps, as every retention rule: the mark ends the
//! account's sessions and stops its sign-in at once, and the final step
//! [`crate::retention::FINAL_STEP_AFTER`] later deletes the record. The
//! final step goes through every subject column of the data inventory that
//! has a user's id or email address in it, and applies that column's entry
//! of [`DISPOSITIONS`].
//!
//! The `users` row itself stays as a tombstone that keeps only its id and
//! times: its name, address, preferences, password and keys are wiped.
//! What the person wrote into a contact link or a discussion is part of
//! that conversation's record, which the other members read and the
//! organisation keeps, so it stays with the conversation under the
//! tombstone's id until the conversation's own retention deletes it. The
//! audit trail and the organisation's records of its work (case notes,
//! calls, rights requests) name the account by id only and stay too.

use crate::access_export::{SubjectKind, subject_kind, subject_tables};

/// The mark reason of a user record whose erasure request was agreed.
pub const REQUESTED: &str = "requested";

/// The mark reason of a community-only account that has not signed in for
/// three years ([`crate::community::retention::inactive_cutoff`]), counting
/// from when it was made if it never has.
pub const INACTIVE: &str = "inactive";

/// The final step's handling of the rows whose column has the user's id or
/// email address in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// The rows are deleted.
    Delete,
    /// The rows are deleted, with their stored files, unless they have been
    /// shared into a conversation.
    DeleteUnshared,
    /// The column is set to null; the row belongs to someone else.
    Unlink,
    /// The rows stay, for the reason given.
    Keep(&'static str),
    /// The user's own row, wiped down to a tombstone.
    Tombstone,
}

const CONVERSATION: &str = "part of a conversation's record";
const AUDIT: &str = "the audit trail names accounts by id only";
const ORGANISATION: &str = "the organisation's record of its work";
const COMMUNITY: &str = "the community's record, shown without a name";

/// The disposition of every subject column with a user's id or email
/// address in it, in the order the final step applies them. Rows that
/// point to other rows of the user go before those rows.
pub const DISPOSITIONS: &[(&str, &str, Disposition)] = {
    use Disposition::{Delete, DeleteUnshared, Keep, Tombstone, Unlink};
    &[
        ("conversation_keys", "recipient_id", Delete),
        ("read_receipts", "user_id", Delete),
        ("conversation_members", "user_id", Delete),
        ("files", "uploader_id", DeleteUnshared),
        ("sessions", "user_id", Delete),
        ("revoked_sessions", "user_id", Delete),
        ("recovery_codes", "user_id", Delete),
        ("organisation_keys", "user_id", Delete),
        ("memberships", "user_id", Delete),
        ("notifications", "user_id", Delete),
        ("digests", "user_id", Delete),
        ("email_outbox", "user_id", Delete),
        ("unsubscribe_links", "user_id", Delete),
        ("invitations", "user_id", Delete),
        ("invitations", "email", Delete),
        ("worker_invitations", "user_id", Delete),
        ("worker_invitations", "email", Delete),
        ("key_recoveries", "user_id", Delete),
        ("key_recoveries", "open_user_id", Delete),
        ("community_group_members", "user_id", Delete),
        ("community_notices", "user_id", Delete),
        ("community_profiles", "user_id", Delete),
        ("community_members", "user_id", Delete),
        ("community_links", "email", Delete),
        ("community_list_entries", "email", Keep(ORGANISATION)),
        ("cases", "family_user_id", Unlink),
        ("agreement_parties", "user_id", Keep(CONVERSATION)),
        ("messages", "sender_id", Keep(CONVERSATION)),
        ("letters", "writer_id", Keep(CONVERSATION)),
        ("letter_events", "actor_id", Keep(CONVERSATION)),
        ("calls", "host_id", Keep(CONVERSATION)),
        ("scheduled_calls", "scheduled_by", Keep(CONVERSATION)),
        ("call_events", "actor_id", Keep(CONVERSATION)),
        ("call_events", "subject_id", Keep(CONVERSATION)),
        ("case_notes", "author_id", Keep(ORGANISATION)),
        ("rights_requests", "subject_user_id", Keep(ORGANISATION)),
        ("audit_events", "actor_id", Keep(AUDIT)),
        ("audit_events", "subject_id", Keep(AUDIT)),
        ("community_posts", "author_id", Keep(COMMUNITY)),
        ("community_topics", "author_id", Keep(COMMUNITY)),
        ("community_images", "owner_id", Keep(COMMUNITY)),
        ("community_reports", "reporter_id", Keep(COMMUNITY)),
        ("community_concerns", "member_user_id", Keep(COMMUNITY)),
        ("users", "id", Tombstone),
    ]
};

/// The display name a tombstone is shown by.
pub const ERASED_NAME: &str = "Erased account";

/// Returns the address a tombstone keeps in place of the email address,
/// unique as the column requires and never deliverable.
pub fn erased_email(user: uuid::Uuid) -> String {
    format!("erased-{user}@erased.invalid")
}

/// Returns whether a subject column has a user's id or email address in
/// it, which the final step of an erasure must handle.
pub fn names_a_user(table: &str, column: &str) -> bool {
    matches!(
        subject_kind(table, column),
        Some(SubjectKind::User | SubjectKind::Email)
    )
}

/// Returns the subject columns that hold a user's id or email address.
pub fn user_columns() -> impl Iterator<Item = (&'static str, &'static str)> {
    subject_tables().flat_map(|table| {
        table
            .subject_columns
            .iter()
            .filter(move |column| names_a_user(table.name, column))
            .map(move |column| (table.name, *column))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_user_column_has_one_disposition() {
        for (table, column) in user_columns() {
            let found = DISPOSITIONS
                .iter()
                .filter(|(t, c, _)| *t == table && *c == column)
                .count();
            assert_eq!(found, 1, "{table}.{column}");
        }
    }

    #[test]
    fn dispositions_name_user_columns_only() {
        for (table, column, _) in DISPOSITIONS {
            assert!(names_a_user(table, column), "{table}.{column}");
        }
    }

    #[test]
    fn tombstone_comes_last() {
        assert_eq!(
            DISPOSITIONS.last().map(|(table, _, d)| (*table, *d)),
            Some(("users", Disposition::Tombstone))
        );
    }

    #[test]
    fn erased_email_is_undeliverable() {
        let id = uuid::Uuid::nil();
        assert!(erased_email(id).ends_with(".invalid"));
    }
}
