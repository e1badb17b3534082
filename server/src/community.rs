//! Who may do what in the community support network, and how its records
//! are shown. Every community route calls [`Standing::require`], which
//! checks the permission table; the rules of state (the acceptable-use rules,
//! suspensions, the posting rate) are checked here once for every route
//! that posts.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use kinlink_actors::events::Event;
use kinlink_core::community::{
    GroupJoin, GroupMembership, MembershipState, POSTS_PER_MINUTE, PostState, RULES_VERSION,
    comparable_display_name, mention_candidates,
};
use kinlink_core::notices::Template;
use kinlink_core::permissions::{self, Action, Relationship, Role};
use kinlink_core::{OrganisationId, UserId};
use kinlink_store::audit::AuditRecord;
use kinlink_store::community::PostingLimit;
use kinlink_store::entity::{community_group, community_member, community_post};
use serde::Serialize;

use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::routes::community::images::{ImageView, image_view};
use crate::state::AppState;

/// A signed-in person's place in the community.
pub struct Standing {
    pub user_id: UserId,
    pub roles: Vec<Role>,
    /// Their application or membership, if they applied.
    pub member: Option<community_member::Model>,
    /// The community partners they moderate for.
    pub partners: Vec<OrganisationId>,
}

impl Standing {
    /// Loads the standing of the signed-in person.
    pub async fn of(state: &AppState, user: &SignedIn) -> Result<Standing, ApiError> {
        let partners = if user.roles.contains(&Role::Moderator) {
            state
                .store
                .grants(user.user_id)
                .await?
                .into_iter()
                .filter(|grant| grant.role == Role::Moderator)
                .map(|grant| grant.organisation_id)
                .collect()
        } else {
            Vec::new()
        };
        let member = match partners.first() {
            // A moderator has a place in the community under their own
            // name, so no member can take it.
            Some(partner) => Some(
                state
                    .store
                    .ensure_moderator_member(
                        user.user_id,
                        &user.display_name,
                        partner.0,
                        Utc::now(),
                    )
                    .await?,
            ),
            None => state.store.community_member(user.user_id).await?,
        };
        Ok(Standing {
            user_id: user.user_id,
            roles: user.roles.clone(),
            member,
            partners,
        })
    }

    /// Returns whether the person moderates the community.
    pub fn is_moderator(&self) -> bool {
        !self.partners.is_empty()
    }

    /// Returns whether the person is a member or a moderator. Anyone else
    /// gets `403 community.not_member` from every route but applying.
    pub fn require_inside(&self) -> Result<(), ApiError> {
        if self.is_moderator() || self.roles.contains(&Role::CommunityMember) {
            Ok(())
        } else {
            Err(ApiError::CommunityNotMember)
        }
    }

    /// Asks the permission table for one action through the relationships
    /// the person has with the subject. A subject they may not read is
    /// `404`, as one that does not exist.
    pub fn require(&self, action: Action, relationships: &[Relationship]) -> Result<(), ApiError> {
        self.require_inside()?;
        let mut with_moderation = relationships.to_vec();
        if self.is_moderator() {
            with_moderation.push(Relationship::CommunityModerator);
        }
        permissions::check(&self.roles, action, &with_moderation).map_err(|_denied| {
            if action == Action::ReadCommunity {
                ApiError::NotFound
            } else {
                ApiError::Forbidden
            }
        })
    }

    /// Asks for an action that is about the community as a whole rather
    /// than one group: moderating, making groups.
    pub fn require_moderation(&self, action: Action) -> Result<(), ApiError> {
        self.require(action, &[])
    }

    /// Returns the relationships the person has with a group.
    pub async fn group_relationships(
        &self,
        state: &AppState,
        group: &community_group::Model,
    ) -> Result<Vec<Relationship>, ApiError> {
        if group.join_rule == GroupJoin::Open.as_str() {
            return Ok(vec![Relationship::GroupReader]);
        }
        let place = state
            .store
            .community_group_place(group.id, self.user_id)
            .await?;
        Ok(
            if place.is_some_and(|place| place.state == GroupMembership::Member.as_str()) {
                vec![Relationship::GroupReader]
            } else {
                Vec::new()
            },
        )
    }

    /// Loads a group the person may take `action` in; `404` for one they
    /// may not read.
    pub async fn group(
        &self,
        state: &AppState,
        id: uuid::Uuid,
        action: Action,
    ) -> Result<community_group::Model, ApiError> {
        self.require_inside()?;
        let group = state.store.community_group(id).await?;
        let relationships = self.group_relationships(state, &group).await?;
        self.require(Action::ReadCommunity, &relationships)?;
        self.require(action, &relationships)?;
        Ok(group)
    }

    /// Checks the rules of state that every post, reply and report keeps:
    /// the current rules accepted and no suspension running. The posting
    /// rate is checked by the store, in the transaction that stores a post.
    pub fn require_may_write(&self, now: DateTime<Utc>) -> Result<(), ApiError> {
        if let Some(member) = &self.member
            && member.state == MembershipState::Active.as_str()
        {
            if let Some(until) = member.suspended_until
                && until > now
            {
                return Err(ApiError::Suspended(until));
            }
            if member.rules_version != Some(RULES_VERSION) {
                return Err(ApiError::RulesNotAccepted(RULES_VERSION));
            }
        } else if !self.is_moderator() {
            return Err(ApiError::CommunityNotMember);
        }
        Ok(())
    }
}

/// Returns the posting limit at `now`: so many posts in the last minute.
pub fn posting_limit(now: DateTime<Utc>) -> PostingLimit {
    PostingLimit {
        since: now - Duration::minutes(1),
        max: usize::try_from(POSTS_PER_MINUTE).unwrap_or(usize::MAX),
    }
}

/// Returns the answer to a post over the limit, with the seconds until the
/// post that filled the minute is a minute old.
pub fn throttled(recent: &[DateTime<Utc>], now: DateTime<Utc>) -> ApiError {
    let limit = posting_limit(now);
    let filled_by = recent
        .len()
        .checked_sub(limit.max)
        .and_then(|index| recent.get(index))
        .copied()
        .unwrap_or(now);
    let wait_ms = (filled_by + Duration::minutes(1) - now)
        .num_milliseconds()
        .max(0);
    ApiError::PostingThrottled(POSTS_PER_MINUTE, ((wait_ms + 999) / 1000).max(1))
}

/// The author of a post or topic, as members see them.
#[derive(Serialize, Clone)]
pub struct Author {
    /// The member's community id, never their account's id; absent for a
    /// member who has been erased.
    pub user_id: Option<uuid::Uuid>,
    pub display_name: String,
    pub moderator: bool,
}

/// Resolves authors' names, once per person per request.
#[derive(Default)]
pub struct Authors {
    known: HashMap<uuid::Uuid, Author>,
}

impl Authors {
    /// Returns how a person is shown as an author.
    pub async fn get(
        &mut self,
        state: &AppState,
        user: Option<uuid::Uuid>,
    ) -> Result<Author, ApiError> {
        let Some(id) = user else {
            return Ok(Author {
                user_id: None,
                display_name: kinlink_core::community::retention::FORMER_MEMBER.to_owned(),
                moderator: false,
            });
        };
        if let Some(author) = self.known.get(&id) {
            return Ok(author.clone());
        }
        let moderator = state
            .store
            .grants(UserId(id))
            .await?
            .iter()
            .any(|grant| grant.role == Role::Moderator);
        let author = match state.store.community_member(UserId(id)).await? {
            Some(member) => Author {
                user_id: Some(member.member_id),
                display_name: member.display_name,
                moderator,
            },
            // Someone who left the community is shown as a former member.
            None => Author {
                user_id: None,
                display_name: kinlink_core::community::retention::FORMER_MEMBER.to_owned(),
                moderator: false,
            },
        };
        self.known.insert(id, author.clone());
        Ok(author)
    }
}

/// A post as one reader may see it.
#[derive(Serialize)]
pub struct PostView {
    pub id: uuid::Uuid,
    pub topic_id: uuid::Uuid,
    pub author: Author,
    /// Absent to others when hidden, and to everyone when removed.
    pub body: Option<String>,
    /// The images the post shows, to those who see its text.
    pub images: Vec<ImageView>,
    pub created_at: DateTime<Utc>,
    pub state: String,
    pub mine: bool,
    /// The moderator's reason, for the author and moderators only.
    pub reason: Option<String>,
}

/// Shows a post to a reader: a hidden post's text and images, and every
/// moderator's reason, go only to its author and to moderators.
pub async fn post_view(
    state: &AppState,
    authors: &mut Authors,
    standing: &Standing,
    post: community_post::Model,
) -> Result<PostView, ApiError> {
    let mut views = post_views(state, authors, standing, vec![post]).await?;
    views.pop().ok_or(ApiError::NotFound)
}

/// Shows posts to a reader, as [`post_view`] does, reading their images at
/// once.
pub async fn post_views(
    state: &AppState,
    authors: &mut Authors,
    standing: &Standing,
    posts: Vec<community_post::Model>,
) -> Result<Vec<PostView>, ApiError> {
    let ids: Vec<uuid::Uuid> = posts.iter().map(|post| post.id).collect();
    let mut images = state.store.community_post_images(&ids).await?;
    let mut views = Vec::with_capacity(posts.len());
    for post in posts {
        let mine = post.author_id == Some(standing.user_id.0);
        let privileged = mine || standing.is_moderator();
        let shown = post.state == PostState::Visible.as_str() || privileged;
        let own_images = images.remove(&post.id).unwrap_or_default();
        views.push(PostView {
            id: post.id,
            topic_id: post.topic_id,
            author: authors.get(state, post.author_id).await?,
            images: if shown && post.body.is_some() {
                own_images.into_iter().map(image_view).collect()
            } else {
                Vec::new()
            },
            body: if shown { post.body } else { None },
            created_at: post.created_at,
            state: post.state,
            mine,
            reason: if privileged { post.reason } else { None },
        });
    }
    Ok(views)
}

/// Tells the pages following a group that something in it changed.
pub async fn announce(state: &AppState, group_id: uuid::Uuid, topic_id: uuid::Uuid) {
    state
        .broker
        .publish(Event::Community { group_id, topic_id })
        .await;
}

/// Makes a stored post known: the author's interaction is recorded, open
/// pages of the group are told, and the people it mentions (and, for a
/// reply, the topic's author) are notified. The post is stored already, so
/// a failure here is logged rather than returned, and the author does not
/// send the post again.
pub async fn after_post(
    state: &AppState,
    group: &community_group::Model,
    topic: uuid::Uuid,
    author: UserId,
    body: &str,
    topic_author: Option<UserId>,
) {
    announce(state, group.id, topic).await;
    let result = async {
        state
            .store
            .touch_community_member(author, Utc::now())
            .await?;
        let mentions = mentioned(state, group, author, body).await?;
        notify(state, &mentions, Template::CommunityMention).await;
        // A topic's author hears of replies, unless they wrote this one or
        // were just notified of a mention in it.
        if let Some(opener) = topic_author
            && opener != author
            && !mentions.contains(&opener)
            && state
                .store
                .community_group_readable_by(group.id, opener)
                .await?
        {
            notify(state, &[opener], Template::CommunityReply).await;
        }
        Ok::<(), ApiError>(())
    }
    .await;
    if let Err(error) = result {
        tracing::error!(
            topic = %topic,
            error = %kinlink_actors::Causes(&error),
            "recording or notifying a stored community post failed"
        );
    }
}

/// Finds a member by the community id that community answers name them
/// by; `404` for an id no member has.
pub async fn member_by_id(
    state: &AppState,
    text: &str,
) -> Result<community_member::Model, ApiError> {
    let id: uuid::Uuid = crate::routes::parse_id(text)?;
    state
        .store
        .community_member_by_id(id)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Queues a notification for each person, with no content. What it is
/// about is stored already, so a failure is logged rather than answered.
pub async fn notify(state: &AppState, users: &[UserId], template: Template) {
    for user in users {
        if let Err(failure) = state.store.notify(*user, template, "/", Utc::now()).await {
            tracing::error!(
                user = %user,
                error = %kinlink_actors::Causes(&failure),
                "queueing a community notification failed"
            );
        }
    }
}

/// Returns the people a post mentions who may read its group, without
/// its author: for each `@`, the longest following name of an active
/// member.
pub async fn mentioned(
    state: &AppState,
    group: &community_group::Model,
    author: UserId,
    body: &str,
) -> Result<Vec<UserId>, ApiError> {
    let mut found = Vec::new();
    for names in mention_candidates(body) {
        for name in names {
            let Some(member) = state
                .store
                .community_member_named(&comparable_display_name(&name))
                .await?
            else {
                continue;
            };
            let user = UserId(member.user_id);
            if user != author
                && !found.contains(&user)
                && state
                    .store
                    .community_group_readable_by(group.id, user)
                    .await?
            {
                found.push(user);
            }
            break;
        }
    }
    Ok(found)
}

/// Writes an audit row of the community, which belongs to no organisation.
pub async fn audit(
    state: &AppState,
    actor: UserId,
    action: &'static str,
    subject_kind: &'static str,
    subject_id: uuid::Uuid,
    detail: serde_json::Value,
) -> Result<(), ApiError> {
    state
        .store
        .audit(AuditRecord {
            actor_id: Some(actor),
            organisation_id: None,
            action,
            subject_kind,
            subject_id: Some(subject_id),
            detail,
            at: Utc::now(),
        })
        .await?;
    Ok(())
}
