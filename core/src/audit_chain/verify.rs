//! Checking a chain link by link, without I/O. The store passes the stored
//! events in sequence order to [`ChainVerifier::check`], then compares the
//! last of them with the head through [`ChainVerifier::finish`].

use super::{AuditEvent, ChainHash, ChainKey};
use crate::AuditEventId;

/// An audit event with the hashes stored beside it.
#[derive(Clone, Copy, Debug)]
pub struct StoredEvent<'a> {
    pub event: AuditEvent<'a>,
    /// The stored hash of the event before it, or empty when none is
    /// stored.
    pub prev_hash: &'a str,
    /// The event's stored hash, or empty when none is stored.
    pub hash: &'a str,
}

/// A chain's head row: where the last append left the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredHead {
    pub last_seq: i64,
    /// `None` while the events from before the chain existed wait to be
    /// hashed.
    pub last_hash: Option<String>,
}

/// A chain that passed every check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainSummary {
    pub events: u64,
    pub last_seq: i64,
    pub last_hash: ChainHash,
}

/// The first link of a chain that fails, with the event it was found at.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    /// Events are missing before this one.
    #[error("row {id} has seq {seq} where seq {expected} was expected: rows are missing before it")]
    Gap {
        id: AuditEventId,
        seq: i64,
        expected: i64,
    },
    /// The event's previous hash is not the stored hash of the event
    /// before it.
    #[error(
        "row {id} (seq {seq}) stores a previous hash that is not the hash of the row before it"
    )]
    PreviousHashMismatch { id: AuditEventId, seq: i64 },
    /// The event's fields no longer produce its stored hash.
    #[error(
        "row {id} (seq {seq}) does not match its stored hash: it was changed after it was written"
    )]
    HashMismatch { id: AuditEventId, seq: i64 },
    /// The event's organisation puts it in another chain.
    #[error("row {id} (seq {seq}) belongs to chain {belongs_to} by its organisation")]
    WrongChain {
        id: AuditEventId,
        seq: i64,
        belongs_to: ChainKey,
    },
    /// The event lies after the head, so it was added without the head.
    #[error("row {id} (seq {seq}) lies past the head at seq {head_seq}")]
    PastHead {
        id: AuditEventId,
        seq: i64,
        head_seq: i64,
    },
    /// The head is ahead of the last event: the chain's tail was cut off.
    #[error("{}: the head is at seq {head_seq}, so the tail was cut off", describe_last(*last))]
    TruncatedTail {
        head_seq: i64,
        /// The last event that remains, with its seq.
        last: Option<(AuditEventId, i64)>,
    },
    /// The head's hash is not the last event's hash.
    #[error("row {id} (seq {seq}) is the last row, but the head's hash is not its hash")]
    HeadHashMismatch { id: AuditEventId, seq: i64 },
    /// The chain has events but no head.
    #[error("row {id} (seq {seq}) is the last row, but the chain has no head")]
    MissingHead { id: AuditEventId, seq: i64 },
    /// The head still waits for the events from before the chain existed
    /// to be hashed.
    #[error(
        "the head at seq {head_seq} has no hash: the rows from before the chain were never hashed"
    )]
    UnhashedHead { head_seq: i64 },
    /// The event has no place in any chain: it was written without a
    /// sequence number or hashes.
    #[error("row {id} has no sequence number or hash: it was written outside the chain")]
    Unchained { id: AuditEventId },
}

fn describe_last(last: Option<(AuditEventId, i64)>) -> String {
    match last {
        Some((id, seq)) => format!("the rows end at row {id} (seq {seq})"),
        None => "the chain has no rows".to_owned(),
    }
}

/// Checks one chain's stored events, given in increasing sequence order.
#[derive(Debug)]
pub struct ChainVerifier {
    chain: ChainKey,
    /// The head as read before the first event, in the same snapshot.
    head: Option<StoredHead>,
    /// The last event checked, with its seq.
    last: Option<(AuditEventId, i64)>,
    /// The hash of the last event checked, or the genesis hash.
    previous: ChainHash,
    events: u64,
}

impl ChainVerifier {
    /// Starts checking `chain`, whose head is `head` (`None` when the
    /// chain has no head row).
    pub fn new(chain: ChainKey, head: Option<StoredHead>) -> Self {
        Self {
            chain,
            head,
            last: None,
            previous: ChainHash::GENESIS,
            events: 0,
        }
    }

    /// Checks the next event: its seq follows the last one, it belongs to
    /// this chain, it links to the last event's hash, and its fields
    /// produce its stored hash.
    pub fn check(&mut self, stored: &StoredEvent<'_>) -> Result<(), ChainBreak> {
        let event = &stored.event;
        let (id, seq) = (event.id, event.seq);
        let expected = self.last.map_or(1, |(_, last_seq)| last_seq + 1);
        if seq != expected {
            return Err(ChainBreak::Gap { id, seq, expected });
        }
        if let Some(head) = &self.head
            && seq > head.last_seq
        {
            return Err(ChainBreak::PastHead {
                id,
                seq,
                head_seq: head.last_seq,
            });
        }
        let belongs_to = ChainKey::of(event.organisation_id);
        if event.chain != self.chain || belongs_to != self.chain {
            return Err(ChainBreak::WrongChain {
                id,
                seq,
                belongs_to,
            });
        }
        if stored.prev_hash != self.previous.to_hex() {
            return Err(ChainBreak::PreviousHashMismatch { id, seq });
        }
        let hash = event.hash(&self.previous);
        if stored.hash != hash.to_hex() {
            return Err(ChainBreak::HashMismatch { id, seq });
        }

        self.last = Some((id, seq));
        self.previous = hash;
        self.events += 1;
        Ok(())
    }

    /// Returns the seq of the last event checked, 0 before the first.
    pub fn last_seq(&self) -> i64 {
        self.last.map_or(0, |(_, seq)| seq)
    }

    /// Compares the last event with the head, once every event is checked.
    pub fn finish(self) -> Result<ChainSummary, ChainBreak> {
        let summary = ChainSummary {
            events: self.events,
            last_seq: self.last_seq(),
            last_hash: self.previous,
        };
        let Some(head) = self.head else {
            return match self.last {
                None => Ok(summary),
                Some((id, seq)) => Err(ChainBreak::MissingHead { id, seq }),
            };
        };
        if head.last_seq > summary.last_seq {
            return Err(ChainBreak::TruncatedTail {
                head_seq: head.last_seq,
                last: self.last,
            });
        }
        let Some(head_hash) = head.last_hash else {
            return Err(ChainBreak::UnhashedHead {
                head_seq: head.last_seq,
            });
        };
        if head_hash != summary.last_hash.to_hex() {
            return Err(match self.last {
                Some((id, seq)) => ChainBreak::HeadHashMismatch { id, seq },
                // A head at seq 0 with a hash other than the genesis hash.
                None => ChainBreak::TruncatedTail {
                    head_seq: head.last_seq,
                    last: None,
                },
            });
        }
        Ok(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OrganisationId;
    use chrono::{DateTime, TimeZone, Utc};
    use serde_json::json;
    use uuid::Uuid;

    const ORGANISATION: OrganisationId = OrganisationId(Uuid::from_u128(0xabc));

    /// A stored event with owned text, as a test builds it.
    #[derive(Clone)]
    struct Row {
        id: AuditEventId,
        seq: i64,
        organisation_id: Option<OrganisationId>,
        occurred_at: DateTime<Utc>,
        action: String,
        detail: serde_json::Value,
        prev_hash: String,
        hash: String,
    }

    impl Row {
        fn event(&self) -> AuditEvent<'_> {
            AuditEvent {
                chain: ChainKey(ORGANISATION.0),
                seq: self.seq,
                id: self.id,
                occurred_at: self.occurred_at,
                actor_id: None,
                organisation_id: self.organisation_id,
                action: &self.action,
                subject_kind: "user",
                subject_id: None,
                detail: &self.detail,
            }
        }

        fn stored(&self) -> StoredEvent<'_> {
            StoredEvent {
                event: self.event(),
                prev_hash: &self.prev_hash,
                hash: &self.hash,
            }
        }
    }

    /// Builds a correctly chained run of `count` events and its head.
    fn chain(count: i64) -> (Vec<Row>, StoredHead) {
        let mut previous = ChainHash::GENESIS;
        let mut rows = Vec::new();
        for seq in 1..=count {
            let mut row = Row {
                id: AuditEventId(Uuid::from_u128(seq as u128)),
                seq,
                organisation_id: Some(ORGANISATION),
                occurred_at: Utc.timestamp_opt(1_800_000_000 + seq, 0).unwrap(),
                action: format!("action.{seq}"),
                detail: json!({ "n": seq }),
                prev_hash: previous.to_hex(),
                hash: String::new(),
            };
            previous = row.event().hash(&previous);
            row.hash = previous.to_hex();
            rows.push(row);
        }
        let head = StoredHead {
            last_seq: count,
            last_hash: Some(previous.to_hex()),
        };
        (rows, head)
    }

    fn verify(rows: &[Row], head: Option<StoredHead>) -> Result<ChainSummary, ChainBreak> {
        let mut verifier = ChainVerifier::new(ChainKey(ORGANISATION.0), head);
        for row in rows {
            verifier.check(&row.stored())?;
        }
        verifier.finish()
    }

    fn id(seq: u128) -> AuditEventId {
        AuditEventId(Uuid::from_u128(seq))
    }

    #[test]
    fn intact_chain_passes() {
        let (rows, head) = chain(5);
        let summary = verify(&rows, Some(head.clone())).unwrap();
        assert_eq!(summary.events, 5);
        assert_eq!(summary.last_seq, 5);
        assert_eq!(Some(summary.last_hash.to_hex()), head.last_hash);
    }

    #[test]
    fn empty_chain_passes() {
        assert_eq!(verify(&[], None).unwrap().events, 0);
        let head = StoredHead {
            last_seq: 0,
            last_hash: Some(ChainHash::GENESIS.to_hex()),
        };
        assert_eq!(verify(&[], Some(head)).unwrap().last_seq, 0);
    }

    #[test]
    fn edited_detail_names_row() {
        let (mut rows, head) = chain(5);
        rows[2].detail = json!({ "n": 99 });
        assert_eq!(
            verify(&rows, Some(head)),
            Err(ChainBreak::HashMismatch { id: id(3), seq: 3 })
        );
    }

    #[test]
    fn edited_action_names_row() {
        let (mut rows, head) = chain(5);
        rows[4].action = "forged".to_owned();
        assert_eq!(
            verify(&rows, Some(head)),
            Err(ChainBreak::HashMismatch { id: id(5), seq: 5 })
        );
    }

    #[test]
    fn rehashed_row_breaks_next_link() {
        // Someone edits row 2 and stores its new hash, but not row 3's link.
        let (mut rows, head) = chain(4);
        rows[1].action = "forged".to_owned();
        let previous = ChainHash::from_hex(&rows[1].prev_hash).unwrap();
        rows[1].hash = rows[1].event().hash(&previous).to_hex();
        assert_eq!(
            verify(&rows, Some(head)),
            Err(ChainBreak::PreviousHashMismatch { id: id(3), seq: 3 })
        );
    }

    #[test]
    fn missing_row_is_gap() {
        let (mut rows, head) = chain(5);
        rows.remove(1);
        assert_eq!(
            verify(&rows, Some(head)),
            Err(ChainBreak::Gap {
                id: id(3),
                seq: 3,
                expected: 2
            })
        );
    }

    #[test]
    fn missing_first_row_is_gap() {
        let (mut rows, head) = chain(3);
        rows.remove(0);
        assert_eq!(
            verify(&rows, Some(head)),
            Err(ChainBreak::Gap {
                id: id(2),
                seq: 2,
                expected: 1
            })
        );
    }

    #[test]
    fn cut_tail_is_reported() {
        let (mut rows, head) = chain(10);
        rows.truncate(8);
        assert_eq!(
            verify(&rows, Some(head)),
            Err(ChainBreak::TruncatedTail {
                head_seq: 10,
                last: Some((id(8), 8))
            })
        );
    }

    #[test]
    fn all_rows_gone_is_cut_tail() {
        let (_, head) = chain(2);
        assert_eq!(
            verify(&[], Some(head)),
            Err(ChainBreak::TruncatedTail {
                head_seq: 2,
                last: None
            })
        );
    }

    #[test]
    fn row_past_head_is_reported() {
        let (rows, _) = chain(3);
        let (_, short_head) = chain(2);
        assert_eq!(
            verify(&rows, Some(short_head)),
            Err(ChainBreak::PastHead {
                id: id(3),
                seq: 3,
                head_seq: 2
            })
        );
    }

    #[test]
    fn wrong_head_hash_is_reported() {
        let (rows, mut head) = chain(3);
        head.last_hash = Some(rows[1].hash.clone());
        assert_eq!(
            verify(&rows, Some(head)),
            Err(ChainBreak::HeadHashMismatch { id: id(3), seq: 3 })
        );
    }

    #[test]
    fn missing_head_is_reported() {
        let (rows, _) = chain(2);
        assert_eq!(
            verify(&rows, None),
            Err(ChainBreak::MissingHead { id: id(2), seq: 2 })
        );
    }

    #[test]
    fn unhashed_head_is_reported() {
        let (rows, mut head) = chain(2);
        head.last_hash = None;
        assert_eq!(
            verify(&rows, Some(head)),
            Err(ChainBreak::UnhashedHead { head_seq: 2 })
        );
    }

    #[test]
    fn row_of_other_organisation_is_reported() {
        let (mut rows, head) = chain(2);
        rows[0].organisation_id = None;
        assert_eq!(
            verify(&rows, Some(head)),
            Err(ChainBreak::WrongChain {
                id: id(1),
                seq: 1,
                belongs_to: ChainKey::PLATFORM
            })
        );
    }

    #[test]
    fn break_messages_name_row() {
        let gap = ChainBreak::Gap {
            id: id(3),
            seq: 3,
            expected: 2,
        };
        assert!(gap.to_string().contains(&id(3).to_string()));
        let cut = ChainBreak::TruncatedTail {
            head_seq: 10,
            last: Some((id(8), 8)),
        };
        let text = cut.to_string();
        assert!(text.contains(&id(8).to_string()), "{text}");
        assert!(text.contains("seq 8"), "{text}");
        assert!(text.contains("seq 10"), "{text}");
    }
}
