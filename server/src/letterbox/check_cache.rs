//! Where the identifying-details check found something in an attached
//! file's text, remembered per file and set of protected terms. A letter
//! is saved as its writer types, and each save checks its attachments
//! again. A PDF's text can be a mebibyte, so without the cache the check
//! would run on the same text again and again.
//!
//! Only positions, rules and term indexes are kept, never text or terms.
//! A hit still decrypts the file's text, with the key of the requesting
//! member, to cut the excerpts. The set of terms is named by a SHA-256 hash
//! salted with a key made at start, so the cache holds no digest of the
//! terms that could be matched against guesses elsewhere.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use kinlink_core::crypto::random_bytes;
use kinlink_core::identifying::{Finding, ProtectedTerm};
use sha2::{Digest, Sha256};

/// Files and term sets remembered; the oldest is forgotten first.
const CAPACITY: usize = 1_024;

/// The findings of one file's text, up to a limit, and how many there
/// were in all.
#[derive(Debug)]
pub struct Checked {
    pub listed: Vec<Finding>,
    pub total: usize,
}

impl Checked {
    /// Keeps the first `limit` of `found`.
    pub fn new(mut found: Vec<Finding>, limit: usize) -> Checked {
        let total = found.len();
        found.truncate(limit);
        Checked {
            listed: found,
            total,
        }
    }
}

type Key = (uuid::Uuid, [u8; 32]);

#[derive(Default)]
struct Entries {
    by_key: HashMap<Key, Arc<Checked>>,
    order: VecDeque<Key>,
}

/// The remembered findings of this node.
pub struct CheckCache {
    salt: [u8; 32],
    entries: Mutex<Entries>,
}

impl CheckCache {
    /// Makes an empty cache with a fresh salt.
    pub fn new() -> anyhow::Result<CheckCache> {
        Ok(CheckCache {
            salt: random_bytes::<32>()?,
            entries: Mutex::default(),
        })
    }

    /// Names a set of protected terms, in their order, for [`Self::get`].
    pub fn terms_key(&self, terms: &[ProtectedTerm]) -> [u8; 32] {
        let mut hash = Sha256::new().chain_update(self.salt);
        for term in terms {
            // The rules read a term's kind as well as its text.
            let kind = format!("{:?}", term.kind);
            hash.update((kind.len() as u64).to_be_bytes());
            hash.update(kind.as_bytes());
            let text = term.text.as_bytes();
            hash.update((text.len() as u64).to_be_bytes());
            hash.update(text);
        }
        hash.finalize().into()
    }

    /// Returns the findings remembered for a file and set of terms.
    pub fn get(&self, file: uuid::Uuid, terms: [u8; 32]) -> Option<Arc<Checked>> {
        self.lock().by_key.get(&(file, terms)).cloned()
    }

    /// Remembers the findings of a file for a set of terms.
    pub fn insert(&self, file: uuid::Uuid, terms: [u8; 32], checked: Arc<Checked>) {
        let mut entries = self.lock();
        let key = (file, terms);
        if entries.by_key.insert(key, checked).is_none() {
            entries.order.push_back(key);
        }
        while entries.order.len() > CAPACITY {
            if let Some(oldest) = entries.order.pop_front() {
                entries.by_key.remove(&oldest);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // The maps are only ever changed together under the lock, and no
        // code in between can panic.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kinlink_core::identifying::{Rule, TermKind};

    fn terms(text: &str) -> Vec<ProtectedTerm> {
        vec![ProtectedTerm {
            kind: TermKind::Surname,
            text: text.to_owned(),
        }]
    }

    fn checked(start: usize) -> Arc<Checked> {
        let finding = Finding {
            start,
            end: start + 1,
            rule: Rule::Postcode,
            term: None,
        };
        Arc::new(Checked::new(vec![finding], 10))
    }

    #[test]
    fn other_terms_or_files_miss() -> anyhow::Result<()> {
        let cache = CheckCache::new()?;
        let file = uuid::Uuid::now_v7();
        let carter = cache.terms_key(&terms("Carter"));
        cache.insert(file, carter, checked(3));
        let hit = cache.get(file, carter).map(|c| c.listed[0].start);
        assert_eq!(hit, Some(3));
        assert!(cache.get(file, cache.terms_key(&terms("Baker"))).is_none());
        assert!(cache.get(uuid::Uuid::now_v7(), carter).is_none());
        Ok(())
    }

    #[test]
    fn salts_differ_between_caches() -> anyhow::Result<()> {
        let first = CheckCache::new()?;
        let second = CheckCache::new()?;
        assert_ne!(
            first.terms_key(&terms("Carter")),
            second.terms_key(&terms("Carter"))
        );
        Ok(())
    }

    #[test]
    fn oldest_entry_is_forgotten_first() -> anyhow::Result<()> {
        let cache = CheckCache::new()?;
        let key = cache.terms_key(&terms("Carter"));
        let files: Vec<uuid::Uuid> = (0..=CAPACITY).map(|_| uuid::Uuid::now_v7()).collect();
        for (index, file) in files.iter().enumerate() {
            cache.insert(*file, key, checked(index));
        }
        assert!(cache.get(files[0], key).is_none());
        assert!(cache.get(files[1], key).is_some());
        assert!(cache.get(files[CAPACITY], key).is_some());
        Ok(())
    }

    #[test]
    fn checked_keeps_the_count_past_its_limit() {
        let found: Vec<Finding> = (0..5)
            .map(|start| Finding {
                start,
                end: start + 1,
                rule: Rule::Postcode,
                term: None,
            })
            .collect();
        let checked = Checked::new(found, 2);
        assert_eq!(checked.listed.len(), 2);
        assert_eq!(checked.total, 5);
    }
}
