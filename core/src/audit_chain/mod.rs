//! The audit trail as one hash chain per organisation.
//!
//! Each audit event has a sequence number in its chain, the hash of the
//! event before it and its own hash: SHA-256 over an unambiguous encoding of
//! the previous hash and every stored field of the event. An event that is
//! edited, removed or moved no longer matches the hashes that follow it, and
//! [`verify::ChainVerifier`] finds the first link that fails.
//!
//! A chain contains one organisation's events. Events with no organisation
//! form the platform chain, whose key is the nil UUID.
//!
//! The hash uses no secret key, so someone who can write to the database
//! can rewrite a chain from the edited event on, head included. The chain
//! therefore proves the trail unchanged only up to a head hash kept outside
//! the database, such as one printed earlier by `kinlink audit-verify`.

pub mod canonical_json;
pub mod verify;

use std::fmt;

use chrono::{DateTime, Timelike, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{AuditEventId, OrganisationId, UserId};

/// Separates this hash from every other SHA-256 input of the product, and
/// names the encoding's version.
const DOMAIN: &[u8] = b"kinlink audit chain v1";

/// The key of one chain: an organisation's id, or the nil UUID for the
/// platform chain of events that belong to no organisation.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChainKey(pub Uuid);

impl ChainKey {
    /// The chain of events that belong to no organisation.
    pub const PLATFORM: ChainKey = ChainKey(Uuid::nil());

    /// Returns the chain that an event of `organisation` belongs to.
    pub fn of(organisation: Option<OrganisationId>) -> Self {
        organisation.map_or(Self::PLATFORM, |id| Self(id.0))
    }

    /// Returns whether this is the platform chain.
    pub fn is_platform(&self) -> bool {
        self.0.is_nil()
    }

    /// Returns the organisation whose chain this is, or `None` for the
    /// platform chain.
    pub fn organisation(&self) -> Option<OrganisationId> {
        (!self.is_platform()).then_some(OrganisationId(self.0))
    }
}

impl fmt::Display for ChainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainKey({})", self.0)
    }
}

/// A SHA-256 hash in a chain, stored as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ChainHash([u8; 32]);

/// A stored chain hash that is not 64 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid audit chain hash {text:?}: expected 64 hex digits")]
pub struct InvalidChainHash {
    /// The text that failed to parse.
    pub text: String,
}

impl ChainHash {
    /// The previous hash of a chain's first event, and the hash of a chain
    /// that has no events yet.
    pub const GENESIS: ChainHash = ChainHash([0; 32]);

    /// Returns the hash as 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        use fmt::Write;
        self.0
            .iter()
            .fold(String::with_capacity(64), |mut text, byte| {
                let _infallible = write!(text, "{byte:02x}");
                text
            })
    }

    /// Parses 64 hex digits, in either case.
    pub fn from_hex(text: &str) -> Result<Self, InvalidChainHash> {
        let invalid = || InvalidChainHash {
            text: text.to_owned(),
        };
        if text.len() != 64 {
            return Err(invalid());
        }
        let mut bytes = [0; 32];
        for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
            let high = char::from(pair[0]).to_digit(16).ok_or_else(invalid)?;
            let low = char::from(pair[1]).to_digit(16).ok_or_else(invalid)?;
            // Two hex digits make at most 0xff.
            *byte = (high * 16 + low) as u8;
        }
        Ok(Self(bytes))
    }
}

impl fmt::Display for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainHash({})", self.to_hex())
    }
}

/// The fields of an audit event that its hash covers, as stored.
#[derive(Clone, Copy, Debug)]
pub struct AuditEvent<'a> {
    pub chain: ChainKey,
    /// The event's place in its chain, from 1.
    pub seq: i64,
    pub id: AuditEventId,
    /// Hashed at microsecond precision, the precision PostgreSQL keeps.
    pub occurred_at: DateTime<Utc>,
    pub actor_id: Option<UserId>,
    pub organisation_id: Option<OrganisationId>,
    pub action: &'a str,
    pub subject_kind: &'a str,
    pub subject_id: Option<Uuid>,
    /// Hashed in its [`canonical_json`] form.
    pub detail: &'a serde_json::Value,
}

impl AuditEvent<'_> {
    /// Computes the event's hash, given the hash of the event before it
    /// ([`ChainHash::GENESIS`] for the first event of a chain).
    ///
    /// Fields of fixed size go in as they are, text goes in after its
    /// length, and an optional id after a byte that marks whether it is
    /// present, so no two different events share an encoding.
    pub fn hash(&self, previous: &ChainHash) -> ChainHash {
        let mut hasher = Sha256::new();
        put_bytes(&mut hasher, DOMAIN);
        hasher.update(previous.0);
        hasher.update(self.chain.0.as_bytes());
        hasher.update(self.seq.to_be_bytes());
        hasher.update(self.id.as_bytes());
        hasher.update(self.occurred_at.timestamp_micros().to_be_bytes());
        put_optional_id(&mut hasher, self.actor_id.map(|id| id.0));
        put_optional_id(&mut hasher, self.organisation_id.map(|id| id.0));
        put_bytes(&mut hasher, self.action.as_bytes());
        put_bytes(&mut hasher, self.subject_kind.as_bytes());
        put_optional_id(&mut hasher, self.subject_id);
        let detail = canonical_json::to_canonical_json(self.detail);
        put_bytes(&mut hasher, detail.as_bytes());
        ChainHash(hasher.finalize().into())
    }
}

/// Feeds a length as 8 big-endian bytes, then the bytes.
fn put_bytes(hasher: &mut Sha256, bytes: &[u8]) {
    hasher.update((bytes.len() as u64).to_be_bytes());
    hasher.update(bytes);
}

/// Feeds 0 for an absent id, or 1 and the id's 16 bytes.
fn put_optional_id(hasher: &mut Sha256, id: Option<Uuid>) {
    match id {
        None => hasher.update([0]),
        Some(id) => {
            hasher.update([1]);
            hasher.update(id.as_bytes());
        }
    }
}

/// Drops the sub-microsecond part of a time. PostgreSQL keeps microseconds
/// and chrono nanoseconds, so an event's time is truncated before it is
/// stored and hashed, and reads back the same from either database.
pub fn truncate_to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    let nanos = at.nanosecond();
    at.with_nanosecond(nanos - nanos % 1_000).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    struct Owned {
        chain: ChainKey,
        seq: i64,
        id: AuditEventId,
        occurred_at: DateTime<Utc>,
        actor_id: Option<UserId>,
        organisation_id: Option<OrganisationId>,
        action: String,
        subject_kind: String,
        subject_id: Option<Uuid>,
        detail: serde_json::Value,
    }

    impl Owned {
        fn sample() -> Self {
            let organisation = OrganisationId(Uuid::from_u128(7));
            Self {
                chain: ChainKey::of(Some(organisation)),
                seq: 3,
                id: AuditEventId(Uuid::from_u128(1)),
                occurred_at: Utc
                    .with_ymd_and_hms(2026, 12, 5, 10, 30, 0)
                    .single()
                    .unwrap(),
                actor_id: Some(UserId(Uuid::from_u128(2))),
                organisation_id: Some(organisation),
                action: "case_note.added".to_owned(),
                subject_kind: "conversation".to_owned(),
                subject_id: Some(Uuid::from_u128(3)),
                detail: json!({ "note": "n-1", "seq": 4 }),
            }
        }

        fn event(&self) -> AuditEvent<'_> {
            AuditEvent {
                chain: self.chain,
                seq: self.seq,
                id: self.id,
                occurred_at: self.occurred_at,
                actor_id: self.actor_id,
                organisation_id: self.organisation_id,
                action: &self.action,
                subject_kind: &self.subject_kind,
                subject_id: self.subject_id,
                detail: &self.detail,
            }
        }

        fn hash(&self) -> ChainHash {
            self.event().hash(&ChainHash::GENESIS)
        }
    }

    #[test]
    fn hash_is_deterministic() {
        let sample = Owned::sample();
        assert_eq!(sample.hash(), Owned::sample().hash());
        assert_ne!(sample.hash(), ChainHash::GENESIS);
    }

    #[test]
    fn every_field_changes_hash() {
        let original = Owned::sample().hash();
        type Change = fn(&mut Owned);
        let changes: [(&str, Change); 14] = [
            ("chain", |e| e.chain = ChainKey::PLATFORM),
            ("seq", |e| e.seq += 1),
            ("id", |e| e.id = AuditEventId(Uuid::from_u128(99))),
            ("occurred_at", |e| {
                e.occurred_at += chrono::Duration::microseconds(1)
            }),
            ("actor_id", |e| {
                e.actor_id = Some(UserId(Uuid::from_u128(98)))
            }),
            ("actor_id absent", |e| e.actor_id = None),
            ("organisation_id", |e| {
                e.organisation_id = Some(OrganisationId(Uuid::from_u128(97)))
            }),
            ("organisation_id absent", |e| e.organisation_id = None),
            ("action", |e| e.action.push('x')),
            ("subject_kind", |e| e.subject_kind.push('x')),
            ("subject_id", |e| e.subject_id = Some(Uuid::from_u128(96))),
            ("subject_id absent", |e| e.subject_id = None),
            ("detail value", |e| {
                e.detail = json!({ "note": "n-2", "seq": 4 })
            }),
            ("detail key", |e| {
                e.detail = json!({ "note": "n-1", "seq2": 4 })
            }),
        ];
        for (field, change) in changes {
            let mut event = Owned::sample();
            change(&mut event);
            assert_ne!(event.hash(), original, "changing {field} kept the hash");
        }
    }

    #[test]
    fn previous_hash_changes_hash() {
        let sample = Owned::sample();
        let previous = sample.hash();
        assert_ne!(sample.event().hash(&previous), sample.hash());
    }

    #[test]
    fn text_boundaries_are_unambiguous() {
        let mut first = Owned::sample();
        first.action = "ab".to_owned();
        first.subject_kind = "c".to_owned();
        let mut second = Owned::sample();
        second.action = "a".to_owned();
        second.subject_kind = "bc".to_owned();
        assert_ne!(first.hash(), second.hash());
    }

    #[test]
    fn absent_ids_are_unambiguous() {
        // An actor and no organisation must differ from the same id as the
        // organisation and no actor.
        let id = Uuid::from_u128(5);
        let mut first = Owned::sample();
        first.actor_id = Some(UserId(id));
        first.organisation_id = None;
        let mut second = Owned::sample();
        second.actor_id = None;
        second.organisation_id = Some(OrganisationId(id));
        assert_ne!(first.hash(), second.hash());

        let mut nil_subject = Owned::sample();
        nil_subject.subject_id = Some(Uuid::nil());
        let mut no_subject = Owned::sample();
        no_subject.subject_id = None;
        assert_ne!(nil_subject.hash(), no_subject.hash());
    }

    #[test]
    fn detail_key_order_keeps_hash() {
        let mut first = Owned::sample();
        first.detail = serde_json::from_str(r#"{"a":1,"b":{"y":2,"x":3}}"#).unwrap();
        let mut second = Owned::sample();
        second.detail = serde_json::from_str(r#"{"b":{"x":3,"y":2},"a":1}"#).unwrap();
        assert_eq!(first.hash(), second.hash());
    }

    #[test]
    fn sub_microsecond_time_keeps_hash() {
        let mut first = Owned::sample();
        first.occurred_at += chrono::Duration::nanoseconds(1_234);
        let mut second = Owned::sample();
        second.occurred_at += chrono::Duration::nanoseconds(1_999);
        assert_eq!(first.hash(), second.hash());
    }

    #[test]
    fn truncate_drops_nanoseconds() {
        let at = Owned::sample().occurred_at + chrono::Duration::nanoseconds(123_456_789);
        let truncated = truncate_to_micros(at);
        assert_eq!(truncated.nanosecond(), 123_456_000);
        assert_eq!(truncated.timestamp(), at.timestamp());
        assert_eq!(truncate_to_micros(truncated), truncated);
    }

    #[test]
    fn chain_key_of_organisation() {
        let organisation = OrganisationId(Uuid::from_u128(7));
        assert_eq!(ChainKey::of(None), ChainKey::PLATFORM);
        assert!(ChainKey::of(None).is_platform());
        assert_eq!(ChainKey::of(Some(organisation)).0, organisation.0);
        assert_eq!(
            ChainKey::of(Some(organisation)).organisation(),
            Some(organisation)
        );
        assert_eq!(ChainKey::PLATFORM.organisation(), None);
    }

    #[test]
    fn hex_round_trip() {
        let hash = Owned::sample().hash();
        let text = hash.to_hex();
        assert_eq!(text.len(), 64);
        assert_eq!(text, text.to_lowercase());
        assert_eq!(ChainHash::from_hex(&text), Ok(hash));
        assert_eq!(ChainHash::from_hex(&text.to_uppercase()), Ok(hash));
        assert_eq!(ChainHash::GENESIS.to_hex(), "0".repeat(64));
    }

    #[test]
    fn hex_rejects_malformed() {
        let valid = Owned::sample().hash().to_hex();
        for text in [
            String::new(),
            valid[..62].to_owned(),
            format!("{valid}00"),
            format!("{}zz", &valid[..62]),
            format!("{}+f", &valid[..62]),
            format!("{}é", &valid[..62]),
        ] {
            assert!(ChainHash::from_hex(&text).is_err(), "accepted {text:?}");
        }
    }
}
