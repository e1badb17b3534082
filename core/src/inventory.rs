//! The data inventory: every column of every database table, the category
//! of data it contains, and the columns that point to the people each row is
//! about. It is meant to drive retention, the data-subject access export and
//! anonymisation, none of which reads it yet.
//!
//! The integration test `inventory` compares this list with the migrated
//! schema on SQLite and on PostgreSQL, so a column that a migration adds or
//! drops fails the tests until it is classified here.
//!
//! A column is classified by what it contains, sealed or not: a sealed
//! letter is [`Category::Communication`], and a sealed private key is
//! [`Category::Technical`]. Free text whose content the schema does not fix
//! is Communication, even where it may mention health or a court case. A
//! column known to hold special category data is
//! [`Category::SpecialCategory`], even where it also contains names. The
//! category describes what a column contains and does not set how long it
//! is kept.

/// The kind of data a column contains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    /// Names and the facts that describe who a person is or single them
    /// out: `users.display_name`, `community_members.membership_number`, a
    /// party's relationship to the child (`agreement_parties.relationship`),
    /// a role such as `birth_family_member` (`memberships.role`), and a
    /// case's region and children's ages.
    Identity,
    /// Email addresses, and the preferences for how and when a person is
    /// contacted: `users.email`, `invitations.email`, `users.notify_by`,
    /// `users.time_zone`, `users.marketing_opt_in`.
    Contact,
    /// Data about health, ethnicity, religion or sexual life (UK GDPR
    /// article 9) or about criminal offences (article 10). This registry
    /// also counts the court order or legal status of a placement here.
    /// Examples: `cases.ethnicity`, `cases.need_health`,
    /// `cases.legal_status`, `cases.sealed_profile` with its religion and
    /// notes on needs, and `community_profiles.legal_status`.
    SpecialCategory,
    /// Content that people write or send, and the names of their files:
    /// `messages.ciphertext`, `letter_versions.ciphertext`,
    /// `files.sealed_name`, `case_notes.ciphertext`, `community_posts.body`,
    /// and the reasons moderators and practitioners give. Most of it is
    /// sealed ciphertext.
    Communication,
    /// Actions of a person and events on their records, with their times:
    /// `users.last_sign_in_at`, `messages.sent_at`, `letters.status`,
    /// `call_events.kind`, the states of memberships and interests, and the
    /// audit trail.
    Activity,
    /// Data the service keeps to run: password salts and hashes, sealed
    /// keys and their epochs, session token hashes, user agents and client
    /// addresses, sign-in failure counts, queued emails and notifications,
    /// and the progress of uploads and media processing.
    Technical,
    /// Counts and statistics: `community_topics.reply_count`, the report of
    /// a retention sweep (`retention_sweeps.report`), and the anonymised
    /// records in `anonymous_cases`.
    Usage,
    /// Ids, foreign keys, and codes or settings that reveal nothing about a
    /// person alone: `users.id`, `messages.sender_id`, `conversations.kind`,
    /// `contact_agreements.review_level`, and most columns of
    /// `organisations`, which describe organisations rather than people.
    None,
}

/// One database table with the category of each of its columns.
#[derive(Debug)]
pub struct Table {
    /// The table's name in the database.
    pub name: &'static str,
    /// The columns that point to the people a row is about: the account or
    /// case the row describes, the author of the content it contains, and the
    /// actor of the activity it records. A case id stands for the children
    /// or the household the case describes, who may have no account. An
    /// email address is listed where a row can be about someone who has no
    /// account yet. A worker recorded only for creating, confirming or
    /// deciding something on another person's row is not listed.
    ///
    /// Empty when no column points to a person. The rows of such a table
    /// (a rendition, a letter version) belong to the people of the row they
    /// refer to.
    pub subject_columns: &'static [&'static str],
    /// Every column, in the order of the SQLite schema, with its category.
    pub columns: &'static [(&'static str, Category)],
}

/// Columns that exist only on PostgreSQL. Both backends have every other
/// column of [`INVENTORY`].
pub const POSTGRES_ONLY: &[(&str, &str)] = &[("community_posts", "search")];

/// Returns the table named `name`.
pub fn table(name: &str) -> Option<&'static Table> {
    INVENTORY.iter().find(|table| table.name == name)
}

/// Returns the category of `column` in `table`, or no category when the
/// registry does not list that column.
pub fn category(table: &str, column: &str) -> Option<Category> {
    self::table(table)?
        .columns
        .iter()
        .find(|(name, _)| *name == column)
        .map(|(_, category)| *category)
}

/// Returns whether `table` is part of SQLite's FTS5 index of community
/// posts: the virtual table `community_search` or one of its shadow tables,
/// `community_search_config`, `_content`, `_data`, `_docsize` and `_idx`.
///
/// The registry leaves these tables out. They contain copies of
/// `community_posts.body` and its topic's title, with FTS5's own
/// bookkeeping, and triggers on `community_posts` add, replace and remove
/// those copies with the posts. PostgreSQL indexes post text in the column
/// `community_posts.search`, which the registry lists, and topic titles in
/// an expression index, which adds no column.
pub fn is_sqlite_search_index(table: &str) -> bool {
    table == "community_search" || table.starts_with("community_search_")
}

/// The registry: every table the migrations create, except their own
/// bookkeeping table `seaql_migrations` and SQLite's search index, in
/// alphabetical order.
pub const INVENTORY: &[Table] = &[
    Table {
        name: "agreement_parties",
        subject_columns: &["user_id"],
        columns: &[
            ("conversation_id", Category::None),
            ("user_id", Category::None),
            ("side", Category::Identity),
            ("relationship", Category::Identity),
        ],
    },
    // What an anonymised case leaves for statistics. No column points to a person.
    Table {
        name: "anonymous_cases",
        subject_columns: &[],
        columns: &[
            ("id", Category::None),
            ("kind", Category::Usage),
            ("outcome", Category::Usage),
            ("region", Category::Usage),
            ("end_year", Category::Usage),
            ("age_band", Category::Usage),
            ("group_size", Category::Usage),
        ],
    },
    Table {
        name: "audit_chain_heads",
        subject_columns: &[],
        columns: &[
            ("chain_id", Category::None),
            ("last_seq", Category::Technical),
            ("last_hash", Category::Technical),
            ("updated_at", Category::Technical),
        ],
    },
    // `subject_id` is a user's id when `subject_kind` is `user`, and another record's id otherwise.
    Table {
        name: "audit_events",
        subject_columns: &["actor_id", "subject_id"],
        columns: &[
            ("id", Category::None),
            ("occurred_at", Category::Activity),
            ("actor_id", Category::None),
            ("organisation_id", Category::None),
            ("action", Category::Activity),
            ("subject_kind", Category::None),
            ("subject_id", Category::None),
            ("detail", Category::Activity),
            ("chain_id", Category::None),
            ("seq", Category::Technical),
            ("prev_hash", Category::Technical),
            ("hash", Category::Technical),
        ],
    },
    Table {
        name: "call_events",
        subject_columns: &["actor_id", "subject_id"],
        columns: &[
            ("id", Category::None),
            ("call_id", Category::None),
            ("at", Category::Activity),
            ("actor_id", Category::None),
            ("subject_id", Category::None),
            ("kind", Category::Activity),
        ],
    },
    Table {
        name: "calls",
        subject_columns: &["host_id"],
        columns: &[
            ("id", Category::None),
            ("conversation_id", Category::None),
            ("host_id", Category::None),
            ("started_at", Category::Activity),
            ("ends_at", Category::Technical),
            ("ended_at", Category::Activity),
            ("end_reason", Category::Activity),
            ("node_id", Category::Technical),
        ],
    },
    Table {
        name: "case_media",
        subject_columns: &["case_id"],
        columns: &[
            ("id", Category::None),
            ("case_id", Category::None),
            ("slot", Category::None),
            ("kind", Category::Technical),
            ("status", Category::Technical),
            ("failure", Category::Technical),
            ("size", Category::Technical),
            ("sealed_key", Category::Technical),
            ("uploaded_by", Category::None),
            ("processing_attempts", Category::Technical),
            ("created_at", Category::Activity),
            ("updated_at", Category::Technical),
        ],
    },
    Table {
        name: "case_media_renditions",
        subject_columns: &[],
        columns: &[
            ("id", Category::None),
            ("media_id", Category::None),
            ("role", Category::Technical),
            ("mime", Category::Technical),
            ("size", Category::Technical),
            ("width", Category::Technical),
            ("height", Category::Technical),
            ("duration_ms", Category::Technical),
        ],
    },
    Table {
        name: "case_notes",
        subject_columns: &["author_id"],
        columns: &[
            ("id", Category::None),
            ("conversation_id", Category::None),
            ("author_id", Category::None),
            ("organisation_id", Category::None),
            ("sealed_key", Category::Technical),
            ("ciphertext", Category::Communication),
            ("written_at", Category::Activity),
        ],
    },
    Table {
        name: "case_shares",
        subject_columns: &["case_id"],
        columns: &[
            ("case_id", Category::None),
            ("organisation_id", Category::None),
        ],
    },
    Table {
        name: "case_transfers",
        subject_columns: &["case_id"],
        columns: &[
            ("id", Category::None),
            ("case_id", Category::None),
            ("from_organisation_id", Category::None),
            ("to_organisation_id", Category::None),
            ("transferred_by", Category::None),
            ("approval_reference", Category::Activity),
            ("approved_on", Category::Activity),
            ("transferred_at", Category::Activity),
        ],
    },
    // A child case describes one child or a sibling group, whom no column links to an account. A
    // family case describes a household, whose account, if it keeps its own profile, is
    // `family_user_id`.
    Table {
        name: "cases",
        subject_columns: &["id", "family_user_id"],
        columns: &[
            ("id", Category::None),
            ("kind", Category::None),
            ("organisation_id", Category::None),
            ("created_by", Category::None),
            ("visibility", Category::None),
            ("anonymous", Category::None),
            ("status", Category::Activity),
            ("region", Category::Identity),
            ("ethnicity", Category::SpecialCategory),
            ("plan", Category::SpecialCategory),
            ("legal_status", Category::SpecialCategory),
            ("approved_for", Category::Identity),
            ("min_age", Category::Identity),
            ("max_age", Category::Identity),
            ("group_size", Category::Identity),
            ("child_ages", Category::Identity),
            ("need_health", Category::SpecialCategory),
            ("need_development", Category::SpecialCategory),
            ("need_history", Category::SpecialCategory),
            ("sealed_profile", Category::SpecialCategory),
            ("family_user_id", Category::None),
            ("created_at", Category::Activity),
            ("updated_at", Category::Activity),
            ("last_activity_at", Category::Activity),
            ("marked_at", Category::Technical),
            ("mark_reason", Category::Technical),
            ("held_at", Category::Activity),
            ("held_by", Category::None),
            ("hold_reason", Category::Communication),
        ],
    },
    Table {
        name: "community_concerns",
        subject_columns: &["member_user_id"],
        columns: &[
            ("id", Category::None),
            ("post_id", Category::None),
            ("organisation_id", Category::None),
            ("reason", Category::Communication),
            ("member_told", Category::Activity),
            ("not_told_because", Category::Communication),
            ("topic_title", Category::Communication),
            ("post_body", Category::Communication),
            ("post_created_at", Category::Activity),
            ("member_user_id", Category::None),
            ("member_display_name", Category::Identity),
            ("raised_by", Category::None),
            ("created_at", Category::Activity),
        ],
    },
    Table {
        name: "community_group_members",
        subject_columns: &["user_id"],
        columns: &[
            ("group_id", Category::None),
            ("user_id", Category::None),
            ("state", Category::Activity),
            ("requested_at", Category::Activity),
            ("decided_at", Category::Activity),
            ("decided_by", Category::None),
        ],
    },
    Table {
        name: "community_groups",
        subject_columns: &[],
        columns: &[
            ("id", Category::None),
            ("name", Category::None),
            ("comparable_name", Category::None),
            ("description", Category::None),
            ("join_rule", Category::None),
            ("created_by", Category::None),
            ("created_at", Category::None),
        ],
    },
    Table {
        name: "community_image_renditions",
        subject_columns: &[],
        columns: &[
            ("id", Category::None),
            ("image_id", Category::None),
            ("role", Category::Technical),
            ("mime", Category::Technical),
            ("size", Category::Technical),
            ("width", Category::Technical),
            ("height", Category::Technical),
        ],
    },
    Table {
        name: "community_images",
        subject_columns: &["owner_id"],
        columns: &[
            ("id", Category::None),
            ("owner_id", Category::None),
            ("post_id", Category::None),
            ("position", Category::None),
            ("description", Category::Communication),
            ("kind", Category::Technical),
            ("status", Category::Technical),
            ("failure", Category::Technical),
            ("size", Category::Technical),
            ("sealed_key", Category::Technical),
            ("processing_attempts", Category::Technical),
            ("created_at", Category::Activity),
            ("updated_at", Category::Technical),
        ],
    },
    Table {
        name: "community_links",
        subject_columns: &["email"],
        columns: &[
            ("id", Category::None),
            ("email", Category::Contact),
            ("token_hash", Category::Technical),
            ("created_at", Category::Activity),
            ("expires_at", Category::Technical),
            ("used_at", Category::Activity),
        ],
    },
    Table {
        name: "community_list_entries",
        subject_columns: &["membership_number", "email"],
        columns: &[
            ("partner_id", Category::None),
            ("membership_number", Category::Identity),
            ("email", Category::Contact),
            ("imported_at", Category::Technical),
        ],
    },
    Table {
        name: "community_members",
        subject_columns: &["user_id"],
        columns: &[
            ("user_id", Category::None),
            ("display_name", Category::Identity),
            ("comparable_name", Category::Identity),
            ("state", Category::Activity),
            ("partner_id", Category::None),
            ("membership_number", Category::Identity),
            ("applied_at", Category::Activity),
            ("decided_at", Category::Activity),
            ("decided_by", Category::None),
            ("verified_how", Category::Activity),
            ("decision_reason", Category::Communication),
            ("rules_version", Category::Activity),
            ("rules_accepted_at", Category::Activity),
            ("suspended_until", Category::Activity),
            ("last_interaction_at", Category::Activity),
            ("member_id", Category::None),
        ],
    },
    Table {
        name: "community_notices",
        subject_columns: &["user_id"],
        columns: &[
            ("id", Category::None),
            ("user_id", Category::None),
            ("kind", Category::Activity),
            ("reason", Category::Communication),
            ("post_id", Category::None),
            ("topic_id", Category::None),
            ("until", Category::Activity),
            ("moderator_id", Category::None),
            ("created_at", Category::Activity),
            ("appeal_text", Category::Communication),
            ("appealed_at", Category::Activity),
            ("appeal_decided_at", Category::Activity),
            ("appeal_decided_by", Category::None),
            ("appeal_outcome", Category::Activity),
            ("appeal_reason", Category::Communication),
        ],
    },
    Table {
        name: "community_posts",
        subject_columns: &["author_id"],
        columns: &[
            ("id", Category::None),
            ("topic_id", Category::None),
            ("author_id", Category::None),
            ("body", Category::Communication),
            ("state", Category::Activity),
            ("reason", Category::Communication),
            ("moderated_by", Category::None),
            ("moderated_at", Category::Activity),
            ("created_at", Category::Activity),
            // PostgreSQL only: the full-text vector generated from `body`.
            ("search", Category::Communication),
        ],
    },
    Table {
        name: "community_profiles",
        subject_columns: &["user_id"],
        columns: &[
            ("user_id", Category::None),
            ("family_makeup", Category::Identity),
            ("family_makeup_visible", Category::None),
            ("legal_status", Category::SpecialCategory),
            ("legal_status_visible", Category::None),
            ("interests", Category::Identity),
            ("interests_visible", Category::None),
            ("updated_at", Category::Activity),
            ("picture_id", Category::None),
            ("picture_visible", Category::None),
            ("marked_at", Category::Technical),
        ],
    },
    Table {
        name: "community_reports",
        subject_columns: &["reporter_id"],
        columns: &[
            ("id", Category::None),
            ("post_id", Category::None),
            ("reporter_id", Category::None),
            ("reason", Category::Communication),
            ("created_at", Category::Activity),
            ("resolved_at", Category::Activity),
            ("resolved_by", Category::None),
        ],
    },
    Table {
        name: "community_topics",
        subject_columns: &["author_id"],
        columns: &[
            ("id", Category::None),
            ("group_id", Category::None),
            ("title", Category::Communication),
            ("author_id", Category::None),
            ("created_at", Category::Activity),
            ("last_post_at", Category::Activity),
            ("reply_count", Category::Usage),
        ],
    },
    // The parties are in `agreement_parties`. `terms_ciphertext` contains the protected names and
    // places that letters must leave out.
    Table {
        name: "contact_agreements",
        subject_columns: &[],
        columns: &[
            ("conversation_id", Category::None),
            ("status", Category::Activity),
            ("review_level", Category::None),
            ("read_receipts", Category::None),
            ("on_request", Category::None),
            ("exchanges", Category::None),
            ("adoptive_media", Category::None),
            ("birth_media", Category::None),
            ("terms_epoch", Category::Technical),
            ("terms_ciphertext", Category::Identity),
            ("status_epoch", Category::Technical),
            ("status_reason_ciphertext", Category::Communication),
            ("updated_by", Category::None),
            ("updated_at", Category::Activity),
            ("live_messages", Category::None),
            ("call_minutes", Category::None),
        ],
    },
    // `recipient_id` is a user's id when `recipient_kind` is `user`, and an organisation's id
    // otherwise.
    Table {
        name: "conversation_keys",
        subject_columns: &["recipient_id"],
        columns: &[
            ("conversation_id", Category::None),
            ("epoch", Category::Technical),
            ("recipient_kind", Category::None),
            ("recipient_id", Category::None),
            ("sealed_key", Category::Technical),
        ],
    },
    Table {
        name: "conversation_members",
        subject_columns: &["user_id"],
        columns: &[
            ("conversation_id", Category::None),
            ("user_id", Category::None),
            ("role", Category::Identity),
            ("joined_at", Category::Activity),
            ("removed_at", Category::Activity),
            ("read_seq", Category::Activity),
        ],
    },
    Table {
        name: "conversations",
        subject_columns: &[],
        columns: &[
            ("id", Category::None),
            ("kind", Category::None),
            ("organisation_id", Category::None),
            ("key_epoch", Category::Technical),
            ("last_seq", Category::Technical),
            ("created_by", Category::None),
            ("created_at", Category::Activity),
            ("accepted_media", Category::None),
        ],
    },
    Table {
        name: "digests",
        subject_columns: &["user_id"],
        columns: &[
            ("id", Category::None),
            ("user_id", Category::None),
            ("slot", Category::Technical),
            ("created_at", Category::Technical),
        ],
    },
    // For an invitation email, `user_id` is the inviter, and the invitation named by
    // `invitation_id` contains the recipient's address.
    Table {
        name: "email_outbox",
        subject_columns: &["user_id"],
        columns: &[
            ("id", Category::None),
            ("user_id", Category::None),
            ("template", Category::Technical),
            ("link_path", Category::Technical),
            ("state", Category::Technical),
            ("attempts", Category::Technical),
            ("unknown_outcomes", Category::Technical),
            ("next_attempt_at", Category::Technical),
            ("lease_until", Category::Technical),
            ("last_error", Category::Technical),
            ("created_at", Category::Technical),
            ("finished_at", Category::Technical),
            ("invitation_id", Category::None),
        ],
    },
    Table {
        name: "file_renditions",
        subject_columns: &[],
        columns: &[
            ("id", Category::None),
            ("file_id", Category::None),
            ("role", Category::Technical),
            ("mime", Category::Technical),
            ("size", Category::Technical),
            ("width", Category::Technical),
            ("height", Category::Technical),
            ("duration_ms", Category::Technical),
        ],
    },
    Table {
        name: "files",
        subject_columns: &["uploader_id"],
        columns: &[
            ("id", Category::None),
            ("conversation_id", Category::None),
            ("uploader_id", Category::None),
            ("declared_size", Category::Technical),
            ("received_bytes", Category::Technical),
            ("kind", Category::Technical),
            ("status", Category::Technical),
            ("failure", Category::Technical),
            ("key_epoch", Category::Technical),
            ("sealed_key", Category::Technical),
            ("created_at", Category::Activity),
            ("updated_at", Category::Technical),
            ("expires_at", Category::Technical),
            ("processing_attempts", Category::Technical),
            ("sealed_name", Category::Communication),
            ("shared_at", Category::Activity),
        ],
    },
    Table {
        name: "interests",
        subject_columns: &["child_case_id", "family_case_id"],
        columns: &[
            ("id", Category::None),
            ("child_case_id", Category::None),
            ("family_case_id", Category::None),
            ("conversation_id", Category::None),
            ("state", Category::Activity),
            ("reason", Category::Activity),
            ("opened_by", Category::None),
            ("opened_at", Category::Activity),
            ("updated_by", Category::None),
            ("updated_at", Category::Activity),
        ],
    },
    Table {
        name: "invitations",
        subject_columns: &["email", "user_id"],
        columns: &[
            ("id", Category::None),
            ("conversation_id", Category::None),
            ("invited_by", Category::None),
            ("email", Category::Contact),
            ("display_name", Category::Identity),
            ("side", Category::Identity),
            ("relationship", Category::Identity),
            ("token_hash", Category::Technical),
            ("created_at", Category::Activity),
            ("expires_at", Category::Technical),
            ("accepted_at", Category::Activity),
            ("user_id", Category::None),
            ("confirmed_at", Category::Activity),
        ],
    },
    Table {
        name: "key_recoveries",
        subject_columns: &["user_id", "open_user_id"],
        columns: &[
            ("id", Category::None),
            ("user_id", Category::None),
            ("open_user_id", Category::None),
            ("reason", Category::Activity),
            ("requested_by", Category::None),
            ("requested_at", Category::Activity),
            ("approved_by", Category::None),
            ("approved_at", Category::Activity),
            ("resealed_at", Category::Technical),
            ("token_hash", Category::Technical),
            ("sealed_private_key", Category::Technical),
            ("enrolment_sealed_secret", Category::Technical),
            ("link_expires_at", Category::Technical),
            ("ended_at", Category::Activity),
            ("outcome", Category::Activity),
            ("ended_by", Category::None),
        ],
    },
    Table {
        name: "letter_events",
        subject_columns: &["actor_id"],
        columns: &[
            ("id", Category::None),
            ("letter_id", Category::None),
            ("conversation_id", Category::None),
            ("kind", Category::Activity),
            ("actor_id", Category::None),
            ("version", Category::None),
            ("key_epoch", Category::Technical),
            ("reason_ciphertext", Category::Communication),
            ("at", Category::Activity),
        ],
    },
    Table {
        name: "letter_versions",
        subject_columns: &[],
        columns: &[
            ("letter_id", Category::None),
            ("version", Category::None),
            ("key_epoch", Category::Technical),
            ("ciphertext", Category::Communication),
            ("saved_at", Category::Activity),
            ("submitted_at", Category::Activity),
        ],
    },
    Table {
        name: "letters",
        subject_columns: &["writer_id"],
        columns: &[
            ("id", Category::None),
            ("conversation_id", Category::None),
            ("writer_id", Category::None),
            ("status", Category::Activity),
            ("version", Category::None),
            ("created_at", Category::Activity),
            ("updated_at", Category::Activity),
            ("submitted_at", Category::Activity),
            ("released_at", Category::Activity),
        ],
    },
    Table {
        name: "memberships",
        subject_columns: &["user_id"],
        columns: &[
            ("user_id", Category::None),
            ("organisation_id", Category::None),
            ("role", Category::Identity),
            ("confirmed_by", Category::None),
            ("created_at", Category::Activity),
        ],
    },
    Table {
        name: "messages",
        subject_columns: &["sender_id"],
        columns: &[
            ("conversation_id", Category::None),
            ("seq", Category::None),
            ("message_id", Category::None),
            ("sender_id", Category::None),
            ("key_epoch", Category::Technical),
            ("ciphertext", Category::Communication),
            ("sent_at", Category::Activity),
        ],
    },
    Table {
        name: "notifications",
        subject_columns: &["user_id"],
        columns: &[
            ("id", Category::None),
            ("user_id", Category::None),
            ("template", Category::Technical),
            ("link_path", Category::Technical),
            ("created_at", Category::Technical),
            ("digest_id", Category::None),
        ],
    },
    Table {
        name: "organisation_keys",
        subject_columns: &["user_id"],
        columns: &[
            ("organisation_id", Category::None),
            ("user_id", Category::None),
            ("sealed_private_key", Category::Technical),
            ("created_at", Category::Technical),
        ],
    },
    Table {
        name: "organisations",
        subject_columns: &[],
        columns: &[
            ("id", Category::None),
            ("name", Category::None),
            ("kind", Category::None),
            ("licence_expires_at", Category::None),
            ("retention_days", Category::None),
            ("public_key", Category::Technical),
            ("created_at", Category::None),
            ("licence_starts_at", Category::None),
            ("families_edit_profiles", Category::None),
        ],
    },
    Table {
        name: "platform_settings",
        subject_columns: &[],
        columns: &[("name", Category::None), ("value", Category::Technical)],
    },
    Table {
        name: "read_receipts",
        subject_columns: &["user_id"],
        columns: &[
            ("conversation_id", Category::None),
            ("seq", Category::None),
            ("user_id", Category::None),
            ("read_at", Category::Activity),
        ],
    },
    Table {
        name: "recovery_codes",
        subject_columns: &["user_id"],
        columns: &[
            ("user_id", Category::None),
            ("code_hash", Category::Technical),
            ("used_at", Category::Activity),
        ],
    },
    Table {
        name: "reminders",
        subject_columns: &[],
        columns: &[
            ("id", Category::None),
            ("conversation_id", Category::None),
            ("side", Category::None),
            ("due_on", Category::Technical),
            ("kind", Category::Technical),
            ("fire_at", Category::Technical),
            ("sent_at", Category::Technical),
        ],
    },
    Table {
        name: "retention_sweeps",
        subject_columns: &[],
        columns: &[
            ("sweep_day", Category::Technical),
            ("due_at", Category::Technical),
            ("node_id", Category::Technical),
            ("started_at", Category::Technical),
            ("finished_at", Category::Technical),
            ("report", Category::Usage),
        ],
    },
    Table {
        name: "revoked_sessions",
        subject_columns: &["user_id"],
        columns: &[
            ("token_hash", Category::Technical),
            ("user_id", Category::None),
            ("revoked_at", Category::Activity),
            ("expires_at", Category::Technical),
            ("last_attempt_at", Category::Activity),
        ],
    },
    // `sealed_subject` contains the name and contact of a person without an account. `recorded_by` is
    // the person who asked, or the worker who recorded the request for them.
    Table {
        name: "rights_requests",
        subject_columns: &["subject_user_id", "sealed_subject", "recorded_by"],
        columns: &[
            ("id", Category::None),
            ("organisation_id", Category::None),
            ("subject_user_id", Category::None),
            ("sealed_subject", Category::Identity),
            ("kind", Category::Activity),
            ("state", Category::Activity),
            ("sealed_details", Category::Communication),
            ("recorded_by", Category::None),
            ("received_at", Category::Activity),
            ("due_on", Category::Activity),
            ("closed_at", Category::Activity),
            ("closed_by", Category::None),
            ("reason", Category::Activity),
            ("updated_at", Category::Activity),
        ],
    },
    Table {
        name: "scheduled_calls",
        subject_columns: &["scheduled_by"],
        columns: &[
            ("id", Category::None),
            ("conversation_id", Category::None),
            ("scheduled_by", Category::None),
            ("starts_at", Category::Activity),
            ("created_at", Category::Activity),
            ("cancelled_at", Category::Activity),
            ("cancelled_by", Category::None),
        ],
    },
    Table {
        name: "sessions",
        subject_columns: &["user_id"],
        columns: &[
            ("id", Category::None),
            ("user_id", Category::None),
            ("token_hash", Category::Technical),
            ("sealed_private_key", Category::Technical),
            ("created_at", Category::Activity),
            ("last_seen_at", Category::Activity),
            ("absolute_expires_at", Category::Technical),
            ("user_agent", Category::Technical),
            ("client_address", Category::Technical),
        ],
    },
    // `subject` is `account:` with a truncated SHA-256 hash of an email address, or `address:` with
    // a client address.
    Table {
        name: "sign_in_failures",
        subject_columns: &["subject"],
        columns: &[
            ("subject", Category::Technical),
            ("window_started_at", Category::Technical),
            ("failures", Category::Technical),
        ],
    },
    Table {
        name: "unsubscribe_links",
        subject_columns: &["user_id"],
        columns: &[
            ("token_hash", Category::Technical),
            ("user_id", Category::None),
            ("email_id", Category::None),
            ("created_at", Category::Technical),
            ("expires_at", Category::Technical),
            ("used_at", Category::Activity),
        ],
    },
    Table {
        name: "users",
        subject_columns: &["id"],
        columns: &[
            ("id", Category::None),
            ("email", Category::Contact),
            ("display_name", Category::Identity),
            ("status", Category::Activity),
            ("password_salt", Category::Technical),
            ("auth_hash", Category::Technical),
            ("public_key", Category::Technical),
            ("sealed_private_key", Category::Technical),
            ("recovery_sealed_private_key", Category::Technical),
            ("totp_sealed_secret", Category::Technical),
            ("invited_by", Category::None),
            ("created_at", Category::Activity),
            ("confirmed_at", Category::Activity),
            ("last_sign_in_at", Category::Activity),
            ("totp_last_step", Category::Technical),
            ("notify_by", Category::Contact),
            ("digest_hour", Category::Contact),
            ("time_zone", Category::Contact),
            ("marketing_opt_in", Category::Contact),
            ("marketing_changed_at", Category::Activity),
            ("marked_at", Category::Activity),
            ("mark_reason", Category::Activity),
            ("erased_at", Category::Activity),
        ],
    },
    Table {
        name: "worker_invitations",
        subject_columns: &["email", "user_id"],
        columns: &[
            ("id", Category::None),
            ("organisation_id", Category::None),
            ("invited_by", Category::None),
            ("email", Category::Contact),
            ("display_name", Category::Identity),
            ("role", Category::Identity),
            ("token_hash", Category::Technical),
            ("enrolment_sealed_secret", Category::Technical),
            ("created_at", Category::Activity),
            ("expires_at", Category::Technical),
            ("accepted_at", Category::Activity),
            ("user_id", Category::None),
            ("case_id", Category::None),
        ],
    },
];

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn no_duplicate_tables() {
        let mut seen = HashSet::new();
        for table in INVENTORY {
            assert!(seen.insert(table.name), "{} is listed twice", table.name);
        }
    }

    #[test]
    fn tables_in_alphabetical_order() {
        for pair in INVENTORY.windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "{} comes before {}",
                pair[0].name,
                pair[1].name
            );
        }
    }

    #[test]
    fn no_duplicate_columns() {
        for table in INVENTORY {
            let mut seen = HashSet::new();
            for (column, _) in table.columns {
                assert!(
                    seen.insert(*column),
                    "{}.{column} is listed twice",
                    table.name
                );
            }
        }
    }

    #[test]
    fn subject_columns_are_listed_columns() {
        for table in INVENTORY {
            let mut seen = HashSet::new();
            for subject in table.subject_columns {
                assert!(
                    category(table.name, subject).is_some(),
                    "subject column {}.{subject} is not among the table's columns",
                    table.name
                );
                assert!(
                    seen.insert(*subject),
                    "subject column {}.{subject} is listed twice",
                    table.name
                );
            }
        }
    }

    #[test]
    fn postgres_only_columns_are_listed() {
        for (table, column) in POSTGRES_ONLY {
            assert!(
                category(table, column).is_some(),
                "{table}.{column} is missing from the registry"
            );
        }
    }

    #[test]
    fn search_index_not_listed() {
        for table in INVENTORY {
            assert!(
                !is_sqlite_search_index(table.name),
                "{} is part of SQLite's search index",
                table.name
            );
        }
    }

    #[test]
    fn search_index_names() {
        assert!(is_sqlite_search_index("community_search"));
        assert!(is_sqlite_search_index("community_search_data"));
        assert!(!is_sqlite_search_index("community_posts"));
        assert!(!is_sqlite_search_index("community_searches"));
    }

    #[test]
    fn lookups() {
        assert_eq!(category("users", "email"), Some(Category::Contact));
        assert_eq!(category("users", "id"), Some(Category::None));
        assert_eq!(
            category("messages", "ciphertext"),
            Some(Category::Communication)
        );
        assert_eq!(category("users", "no_such_column"), None);
        assert_eq!(category("no_such_table", "id"), None);
        assert_eq!(
            table("sessions").map(|table| table.subject_columns),
            Some(&["user_id"][..])
        );
        assert!(table("seaql_migrations").is_none());
    }
}
