//! Groups, the members' places in them, topics and posts.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use kinlink_core::UserId;
use kinlink_core::community::{GroupJoin, GroupMembership, PostState};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::images;
use crate::entity::{
    community_group, community_group_member, community_member, community_post, community_topic,
};
use crate::{Store, StoreError};

/// Most topics one listing of a group returns; the next listing starts
/// at an offset.
const TOPICS_LISTED: u64 = 200;
/// Most posts one reading of a topic returns; the next reading starts at
/// an offset.
pub const POSTS_LISTED: u64 = 1_000;

/// A topic to open, with its first post.
pub struct NewTopic {
    pub id: uuid::Uuid,
    pub group_id: uuid::Uuid,
    pub title: String,
    pub post: NewPost,
}

/// The most posts an author may have written since a time, checked in the
/// same transaction as the new post so parallel requests cannot pass it
/// together.
#[derive(Clone, Copy)]
pub struct PostingLimit {
    pub since: DateTime<Utc>,
    pub max: usize,
}

/// The outcome of adding a post under a [`PostingLimit`].
pub enum Posting<T> {
    Stored(T),
    /// Nothing was stored: the author's posts since the limit's start, oldest
    /// first, fill it.
    OverLimit(Vec<DateTime<Utc>>),
    /// Nothing was stored: this image is not one of the author's ready,
    /// unused images.
    ImageUnavailable(uuid::Uuid),
}

/// Locks the author's membership row and returns their posts' times since
/// the limit's start when they fill it.
async fn over_limit(
    transaction: &crate::connect::WriteTransaction,
    author: UserId,
    limit: PostingLimit,
) -> Result<Option<Vec<DateTime<Utc>>>, StoreError> {
    // On PostgreSQL the row lock makes a second request by the same author
    // wait here; SQLite runs one write transaction at a time anyway.
    let mut lock = community_member::Entity::find_by_id(author.0);
    if transaction.get_database_backend() == sea_orm::DbBackend::Postgres {
        lock = lock.lock_exclusive();
    }
    lock.one(&**transaction).await?;
    let times: Vec<DateTime<Utc>> = community_post::Entity::find()
        .select_only()
        .column(community_post::Column::CreatedAt)
        .filter(community_post::Column::AuthorId.eq(author.0))
        .filter(community_post::Column::CreatedAt.gt(limit.since))
        .order_by_asc(community_post::Column::CreatedAt)
        .into_tuple()
        .all(&**transaction)
        .await?;
    Ok((times.len() >= limit.max).then_some(times))
}

/// A post to add.
pub struct NewPost {
    pub id: uuid::Uuid,
    pub author: UserId,
    pub body: String,
    /// The author's images the post shows, each with its description.
    pub images: Vec<(uuid::Uuid, Option<String>)>,
    pub at: DateTime<Utc>,
}

fn post_row(topic_id: uuid::Uuid, post: NewPost) -> community_post::Model {
    community_post::Model {
        id: post.id,
        topic_id,
        author_id: Some(post.author.0),
        body: Some(post.body),
        state: PostState::Visible.as_str().to_owned(),
        reason: None,
        moderated_by: None,
        moderated_at: None,
        created_at: post.at,
    }
}

impl Store {
    /// Lists every group, by name.
    pub async fn community_groups(&self) -> Result<Vec<community_group::Model>, StoreError> {
        Ok(community_group::Entity::find()
            .order_by_asc(community_group::Column::Name)
            .all(&self.db)
            .await?)
    }

    /// Loads a group.
    pub async fn community_group(
        &self,
        id: uuid::Uuid,
    ) -> Result<community_group::Model, StoreError> {
        community_group::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound { what: "group" })
    }

    /// Creates a group; `Conflict` when the name reads as another's.
    pub async fn create_community_group(
        &self,
        group: community_group::Model,
    ) -> Result<(), StoreError> {
        community_group::Entity::insert(community_group::ActiveModel::from(group))
            .exec_without_returning(&self.db)
            .await
            .map_err(|error| {
                if crate::error::is_unique_violation(&error) {
                    StoreError::Conflict { what: "group name" }
                } else {
                    error.into()
                }
            })?;
        Ok(())
    }

    /// Returns the number of topics in each group.
    pub async fn community_topic_counts(&self) -> Result<HashMap<uuid::Uuid, i64>, StoreError> {
        let rows: Vec<(uuid::Uuid, i64)> = community_topic::Entity::find()
            .select_only()
            .column(community_topic::Column::GroupId)
            .column_as(community_topic::Column::Id.count(), "count")
            .group_by(community_topic::Column::GroupId)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().collect())
    }

    /// Returns a person's places in groups.
    pub async fn community_group_places(
        &self,
        user: UserId,
    ) -> Result<Vec<community_group_member::Model>, StoreError> {
        Ok(community_group_member::Entity::find()
            .filter(community_group_member::Column::UserId.eq(user.0))
            .all(&self.db)
            .await?)
    }

    /// Returns a person's place in one group.
    pub async fn community_group_place(
        &self,
        group: uuid::Uuid,
        user: UserId,
    ) -> Result<Option<community_group_member::Model>, StoreError> {
        Ok(community_group_member::Entity::find_by_id((group, user.0))
            .one(&self.db)
            .await?)
    }

    /// Returns whether a group is open, or has the person in it: what a
    /// member needs to read it.
    pub async fn community_group_readable_by(
        &self,
        group: uuid::Uuid,
        user: UserId,
    ) -> Result<bool, StoreError> {
        let Some(row) = community_group::Entity::find_by_id(group)
            .one(&self.db)
            .await?
        else {
            return Ok(false);
        };
        if row.join_rule == GroupJoin::Open.as_str() {
            return Ok(true);
        }
        Ok(self
            .community_group_place(group, user)
            .await?
            .is_some_and(|place| place.state == GroupMembership::Member.as_str()))
    }

    /// Puts a person in a group, or records their request to join. A
    /// person already in the group, or waiting, stays as they are.
    pub async fn join_community_group(
        &self,
        group: uuid::Uuid,
        user: UserId,
        state: GroupMembership,
        at: DateTime<Utc>,
    ) -> Result<community_group_member::Model, StoreError> {
        if let Some(existing) = self.community_group_place(group, user).await? {
            return Ok(existing);
        }
        let row = community_group_member::Model {
            group_id: group,
            user_id: user.0,
            state: state.as_str().to_owned(),
            requested_at: at,
            decided_at: None,
            decided_by: None,
        };
        match community_group_member::Entity::insert(community_group_member::ActiveModel::from(
            row.clone(),
        ))
        .exec_without_returning(&self.db)
        .await
        {
            Ok(_) => Ok(row),
            Err(error) if crate::error::is_unique_violation(&error) => self
                .community_group_place(group, user)
                .await?
                .ok_or(StoreError::NotFound {
                    what: "group place",
                }),
            Err(error) => Err(error.into()),
        }
    }

    /// Takes a person out of a group, or withdraws their request.
    pub async fn leave_community_group(
        &self,
        group: uuid::Uuid,
        user: UserId,
    ) -> Result<(), StoreError> {
        community_group_member::Entity::delete_by_id((group, user.0))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Lists the requests waiting to join a group, oldest first.
    pub async fn community_group_requests(
        &self,
        group: uuid::Uuid,
    ) -> Result<Vec<community_group_member::Model>, StoreError> {
        Ok(community_group_member::Entity::find()
            .filter(community_group_member::Column::GroupId.eq(group))
            .filter(community_group_member::Column::State.eq(GroupMembership::Requested.as_str()))
            .order_by_asc(community_group_member::Column::RequestedAt)
            .all(&self.db)
            .await?)
    }

    /// Lets a waiting person in, or declines them. Returns `NotFound` when
    /// no request waits.
    pub async fn decide_community_group_request(
        &self,
        group: uuid::Uuid,
        user: UserId,
        approve: bool,
        moderator: UserId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let waiting = community_group_member::Column::State.eq(GroupMembership::Requested.as_str());
        let changed = if approve {
            community_group_member::Entity::update_many()
                .col_expr(
                    community_group_member::Column::State,
                    Expr::value(GroupMembership::Member.as_str()),
                )
                .col_expr(
                    community_group_member::Column::DecidedAt,
                    Expr::value(Some(at)),
                )
                .col_expr(
                    community_group_member::Column::DecidedBy,
                    Expr::value(Some(moderator.0)),
                )
                .filter(community_group_member::Column::GroupId.eq(group))
                .filter(community_group_member::Column::UserId.eq(user.0))
                .filter(waiting)
                .exec(&self.db)
                .await?
                .rows_affected
        } else {
            community_group_member::Entity::delete_many()
                .filter(community_group_member::Column::GroupId.eq(group))
                .filter(community_group_member::Column::UserId.eq(user.0))
                .filter(waiting)
                .exec(&self.db)
                .await?
                .rows_affected
        };
        if changed != 1 {
            return Err(StoreError::NotFound {
                what: "request to join",
            });
        }
        Ok(())
    }

    /// Lists a group's topics, newest activity first, from the `offset`th.
    pub async fn community_topics(
        &self,
        group: uuid::Uuid,
        offset: u64,
    ) -> Result<Vec<community_topic::Model>, StoreError> {
        Ok(community_topic::Entity::find()
            .filter(community_topic::Column::GroupId.eq(group))
            .order_by_desc(community_topic::Column::LastPostAt)
            .order_by_desc(community_topic::Column::Id)
            .offset(offset)
            .limit(TOPICS_LISTED)
            .all(&self.db)
            .await?)
    }

    /// Loads a topic.
    pub async fn community_topic(
        &self,
        id: uuid::Uuid,
    ) -> Result<community_topic::Model, StoreError> {
        community_topic::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound { what: "topic" })
    }

    /// Lists a topic's posts, oldest first, from the `offset`th: at most
    /// [`POSTS_LISTED`], and one more when more follow.
    pub async fn community_posts(
        &self,
        topic: uuid::Uuid,
        offset: u64,
    ) -> Result<Vec<community_post::Model>, StoreError> {
        Ok(community_post::Entity::find()
            .filter(community_post::Column::TopicId.eq(topic))
            .order_by_asc(community_post::Column::CreatedAt)
            .order_by_asc(community_post::Column::Id)
            .offset(offset)
            .limit(POSTS_LISTED + 1)
            .all(&self.db)
            .await?)
    }

    /// Loads a post.
    pub async fn community_post(
        &self,
        id: uuid::Uuid,
    ) -> Result<community_post::Model, StoreError> {
        community_post::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound { what: "post" })
    }

    /// Opens a topic with its first post, in one transaction.
    pub async fn open_community_topic(
        &self,
        topic: NewTopic,
        limit: PostingLimit,
    ) -> Result<Posting<(community_topic::Model, community_post::Model)>, StoreError> {
        let topic_row = community_topic::Model {
            id: topic.id,
            group_id: topic.group_id,
            title: topic.title,
            author_id: Some(topic.post.author.0),
            created_at: topic.post.at,
            last_post_at: topic.post.at,
            reply_count: 0,
        };
        let author = topic.post.author;
        let images = topic.post.images.clone();
        let post = post_row(topic.id, topic.post);
        let transaction = self.begin_write().await?;
        if let Some(times) = over_limit(&transaction, author, limit).await? {
            transaction.rollback().await?;
            return Ok(Posting::OverLimit(times));
        }
        community_topic::Entity::insert(community_topic::ActiveModel::from(topic_row.clone()))
            .exec_without_returning(&*transaction)
            .await?;
        community_post::Entity::insert(community_post::ActiveModel::from(post.clone()))
            .exec_without_returning(&*transaction)
            .await?;
        if let Some(image) = images::attach(&*transaction, post.id, author, &images).await? {
            transaction.rollback().await?;
            return Ok(Posting::ImageUnavailable(image));
        }
        transaction.commit().await?;
        Ok(Posting::Stored((topic_row, post)))
    }

    /// Adds a reply to a topic, in one transaction with the topic's count.
    pub async fn add_community_post(
        &self,
        topic: uuid::Uuid,
        post: NewPost,
        limit: PostingLimit,
    ) -> Result<Posting<community_post::Model>, StoreError> {
        let author = post.author;
        let images = post.images.clone();
        let row = post_row(topic, post);
        let transaction = self.begin_write().await?;
        if let Some(times) = over_limit(&transaction, author, limit).await? {
            transaction.rollback().await?;
            return Ok(Posting::OverLimit(times));
        }
        let changed = community_topic::Entity::update_many()
            .col_expr(
                community_topic::Column::ReplyCount,
                Expr::col(community_topic::Column::ReplyCount).add(1),
            )
            .col_expr(
                community_topic::Column::LastPostAt,
                Expr::value(row.created_at),
            )
            .filter(community_topic::Column::Id.eq(topic))
            .exec(&*transaction)
            .await?;
        if changed.rows_affected != 1 {
            transaction.rollback().await?;
            return Err(StoreError::NotFound { what: "topic" });
        }
        community_post::Entity::insert(community_post::ActiveModel::from(row.clone()))
            .exec_without_returning(&*transaction)
            .await?;
        if let Some(image) = images::attach(&*transaction, row.id, author, &images).await? {
            transaction.rollback().await?;
            return Ok(Posting::ImageUnavailable(image));
        }
        transaction.commit().await?;
        Ok(Posting::Stored(row))
    }
}
