//! The KinLink domain: identifiers, validated values, roles with the one
//! permission check, the key hierarchy that protects communication data, and
//! the check that finds identifying details in letterbox letters.
//!
//! Nothing here performs I/O. The store, the actors and the server build on
//! these types so that an invalid value or a mixed-up id cannot travel past
//! the edge where it arrived.

pub mod content;
pub mod crypto;
pub mod identifying;
pub mod ids;
pub mod letterbox;
pub mod local_time;
pub mod notices;
pub mod permissions;
pub mod reminders;
pub mod values;

pub use ids::*;
