//! The community support network's routes, one module per resource. The
//! rules they share (who may do what, how posts are shown) are in
//! `crate::community`.

pub mod concerns;
pub mod groups;
pub mod images;
pub mod membership;
pub mod membership_list;
pub mod moderation;
pub mod profile;
pub mod search;
pub mod topics;
