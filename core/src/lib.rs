//! The KinLink domain: identifiers, validated values, roles with the one
//! permission check, the key hierarchy that protects communication data, the
//! hash chain of the audit trail, the check that finds identifying details
//! in letterbox letters, family-finding profiles with their matching, and
//! the suppression of small counts in published statistics.
//!
//! Nothing here performs I/O. The store, the actors and the server build on
//! these types so that an invalid value or a mixed-up id cannot travel past
//! the edge where it arrived.

pub mod access_export;
pub mod audit_chain;
pub mod case_retention;
pub mod codes;
pub mod community;
pub mod content;
pub mod crypto;
pub mod identifying;
pub mod ids;
pub mod interests;
pub mod inventory;
pub mod letterbox;
pub mod licence;
pub mod local_time;
pub mod matching;
pub mod notices;
pub mod organisations;
pub mod permissions;
pub mod profiles;
pub mod recovery;
pub mod reminders;
pub mod retention;
pub mod rights;
pub mod sufficiency;
pub mod user_erasure;
pub mod values;

pub use ids::*;
