//! The community support network's storage: memberships and the partners'
//! lists they are verified against, profiles, groups, topics and posts,
//! reports and moderators' notices. Nothing here joins case data.

mod concerns;
mod forum;
pub mod images;
mod membership;
pub mod moderation;
mod search;

pub use forum::{NewPost, NewTopic, POSTS_LISTED, Posting, PostingLimit};
pub use images::{AddedImage, CommunityImage, NewImage};
pub use membership::{Application, ListImport, NewCommunityMember};
pub use moderation::{NewNotice, PostModeration};
pub use search::SearchHit;
