//! How the access export reads the data inventory: which rows of a table
//! are about the person asking, and what happens to each column of those
//! rows.
//!
//! The export takes every table of [`crate::inventory::INVENTORY`] that has
//! subject columns, keeps the rows whose subject column names the person,
//! and copies each column unless [`treatment`] gives another treatment. A sealed
//! column is given opened under a new name; a credential or key is left out
//! and named in the export's list of withheld columns.

use crate::inventory::INVENTORY;

/// The name of the export's format, written into its `export.json`.
pub const FORMAT: &str = "kinlink-access-export";

/// The version of that format.
pub const FORMAT_VERSION: u32 = 1;

/// The kind of value in a subject column, which decides the value a row
/// must have there to be about the person asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubjectKind {
    /// A user's id: the row is the person's when it contains their id.
    User,
    /// A case's id: the row is the person's when it contains the id of a case
    /// that describes their own household.
    Case,
    /// An email address: the row is the person's when it contains their
    /// address.
    Email,
    /// The sign-in throttle's hashed account key.
    AccountKey,
    /// A community membership number.
    MembershipNumber,
    /// A column that names someone else than the person asking: the worker
    /// who recorded a request for another person, or the sealed name of a
    /// person without an account. Never matched by a person's own export.
    Other,
}

/// Returns the kind of value in the subject column `column` of `table`, or
/// `None` when the pair is not a subject column listed here.
pub fn subject_kind(table: &str, column: &str) -> Option<SubjectKind> {
    use SubjectKind::{AccountKey, Case, Email, MembershipNumber, Other, User};
    let kind = match (table, column) {
        ("cases", "id")
        | ("case_media" | "case_shares" | "case_transfers", "case_id")
        | ("interests", "child_case_id" | "family_case_id") => Case,
        (
            "community_links" | "community_list_entries" | "invitations" | "worker_invitations",
            "email",
        ) => Email,
        ("community_list_entries", "membership_number") => MembershipNumber,
        ("sign_in_failures", "subject") => AccountKey,
        ("rights_requests", "sealed_subject" | "recorded_by") => Other,
        ("users", "id")
        | ("cases", "family_user_id")
        | ("audit_events" | "call_events", "actor_id" | "subject_id")
        | ("calls", "host_id")
        | ("case_notes", "author_id")
        | ("community_concerns", "member_user_id")
        | ("community_images", "owner_id")
        | ("community_posts" | "community_topics", "author_id")
        | ("community_reports", "reporter_id")
        | ("conversation_keys", "recipient_id")
        | ("files", "uploader_id")
        | ("key_recoveries", "open_user_id")
        | ("letter_events", "actor_id")
        | ("letters", "writer_id")
        | ("messages", "sender_id")
        | ("rights_requests", "subject_user_id")
        | ("scheduled_calls", "scheduled_by")
        | (
            "agreement_parties"
            | "community_group_members"
            | "community_members"
            | "community_notices"
            | "community_profiles"
            | "conversation_members"
            | "digests"
            | "email_outbox"
            | "invitations"
            | "key_recoveries"
            | "memberships"
            | "notifications"
            | "organisation_keys"
            | "read_receipts"
            | "recovery_codes"
            | "revoked_sessions"
            | "sessions"
            | "unsubscribe_links"
            | "worker_invitations",
            "user_id",
        ) => User,
        _ => return None,
    };
    Some(kind)
}

/// The reason a column is left out of the export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Withholding {
    /// A password hash, a salt, or the hash of a token or recovery code:
    /// it proves who someone is, and is of no use outside the service.
    Credential,
    /// A key, sealed or public. The export gives what the keys protect,
    /// opened, and the keys would open nothing outside the service.
    Key,
}

impl Withholding {
    /// Returns the name the export gives this reason.
    pub fn as_str(self) -> &'static str {
        match self {
            Withholding::Credential => "credential",
            Withholding::Key => "key",
        }
    }
}

/// The export's handling of one column of a row about the person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Treatment {
    /// The stored value is copied as it is.
    Copied,
    /// The column is sealed. The export opens it with a key of the
    /// person's session or with the platform data key, and gives the
    /// plaintext under the name given here.
    Opened(&'static str),
    /// The column is left out of the row and named in the export's list
    /// of withheld columns.
    Withheld(Withholding),
}

/// Every column the export does not copy as it is, with what it does
/// instead. Every other column of a row about the person is copied.
pub const TREATED: &[(&str, &str, Treatment)] = {
    use Treatment::{Opened, Withheld};
    use Withholding::{Credential, Key};
    &[
        ("messages", "ciphertext", Opened("body")),
        ("files", "sealed_name", Opened("name")),
        ("letter_events", "reason_ciphertext", Opened("reason")),
        ("cases", "sealed_profile", Opened("profile")),
        ("case_notes", "ciphertext", Opened("body")),
        ("rights_requests", "sealed_details", Opened("details")),
        ("rights_requests", "sealed_subject", Opened("subject")),
        ("users", "password_salt", Withheld(Credential)),
        ("users", "auth_hash", Withheld(Credential)),
        ("sessions", "token_hash", Withheld(Credential)),
        ("revoked_sessions", "token_hash", Withheld(Credential)),
        ("unsubscribe_links", "token_hash", Withheld(Credential)),
        ("invitations", "token_hash", Withheld(Credential)),
        ("worker_invitations", "token_hash", Withheld(Credential)),
        ("key_recoveries", "token_hash", Withheld(Credential)),
        ("community_links", "token_hash", Withheld(Credential)),
        ("recovery_codes", "code_hash", Withheld(Credential)),
        ("users", "public_key", Withheld(Key)),
        ("users", "sealed_private_key", Withheld(Key)),
        ("users", "recovery_sealed_private_key", Withheld(Key)),
        ("users", "totp_sealed_secret", Withheld(Key)),
        ("sessions", "sealed_private_key", Withheld(Key)),
        ("key_recoveries", "sealed_private_key", Withheld(Key)),
        ("organisation_keys", "sealed_private_key", Withheld(Key)),
        (
            "worker_invitations",
            "enrolment_sealed_secret",
            Withheld(Key),
        ),
        ("key_recoveries", "enrolment_sealed_secret", Withheld(Key)),
        ("conversation_keys", "sealed_key", Withheld(Key)),
        ("files", "sealed_key", Withheld(Key)),
        ("case_media", "sealed_key", Withheld(Key)),
        ("community_images", "sealed_key", Withheld(Key)),
        ("case_notes", "sealed_key", Withheld(Key)),
    ]
};

/// Returns what the export does with `column` of `table`.
pub fn treatment(table: &str, column: &str) -> Treatment {
    TREATED
        .iter()
        .find(|(name, treated, _)| *name == table && *treated == column)
        .map_or(Treatment::Copied, |(_, _, treatment)| *treatment)
}

/// Returns the tables the export reads: every table of the inventory that
/// has subject columns.
pub fn subject_tables() -> impl Iterator<Item = &'static crate::inventory::Table> {
    INVENTORY
        .iter()
        .filter(|table| !table.subject_columns.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subject_column_has_a_kind() {
        for table in subject_tables() {
            for column in table.subject_columns {
                assert!(
                    subject_kind(table.name, column).is_some(),
                    "{}.{column} has no subject kind",
                    table.name
                );
            }
        }
    }

    #[test]
    fn every_treated_column_is_in_the_inventory_once() {
        for (index, (table, column, _)) in TREATED.iter().enumerate() {
            assert!(
                crate::inventory::category(table, column).is_some(),
                "{table}.{column} is not in the inventory"
            );
            assert!(
                !TREATED[..index]
                    .iter()
                    .any(|(t, c, _)| t == table && c == column),
                "{table}.{column} is treated twice"
            );
        }
        assert_eq!(treatment("users", "email"), Treatment::Copied);
        assert_eq!(
            treatment("messages", "ciphertext"),
            Treatment::Opened("body")
        );
    }

    #[test]
    fn opened_names_are_not_columns_of_their_table() {
        for (table, _, treated) in TREATED {
            if let Treatment::Opened(name) = treated {
                assert!(
                    crate::inventory::category(table, name).is_none(),
                    "{table}.{name} is a column already"
                );
            }
        }
    }

    #[test]
    fn kinds_only_for_subject_columns() {
        for table in crate::inventory::INVENTORY {
            for (column, _) in table.columns {
                if subject_kind(table.name, column).is_some() {
                    assert!(
                        table.subject_columns.contains(column),
                        "{}.{column} has a subject kind but is not a subject column",
                        table.name
                    );
                }
            }
        }
    }
}
