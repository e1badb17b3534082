//! Applying to the community, verifying applicants by hand or against a
//! partner's membership list, the acceptable-use rules, suspensions and
//! the profile a member keeps.

use chrono::{DateTime, Utc};
use kinlink_core::UserId;
use kinlink_core::community::{ListEntry, MembershipState, VerifiedHow};
use kinlink_core::notices::Template;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};

use crate::entity::{
    community_link, community_list_entry, community_member, community_profile, email_outbox, user,
};
use crate::outbox::{NewEmail, outbox_row};
use crate::users::{NewUser, insert_user};
use crate::{Store, StoreError};

/// A new application to the community.
pub struct NewCommunityMember {
    pub user_id: UserId,
    pub display_name: String,
    pub comparable_name: String,
    pub partner_id: Option<uuid::Uuid>,
    pub membership_number: Option<String>,
    pub at: DateTime<Utc>,
}

/// An application as a moderator sees it.
pub struct Application {
    pub member: community_member::Model,
    pub email: String,
    /// Whether the partner's list has the number with the account's email.
    pub list_match: bool,
}

/// What replacing a partner's membership list did.
pub struct ListImport {
    pub entries: usize,
    /// The applicants the new list verified.
    pub verified: Vec<UserId>,
}

async fn name_taken<C: ConnectionTrait>(
    db: &C,
    comparable_name: &str,
    except: Option<UserId>,
) -> Result<bool, StoreError> {
    let mut query = community_member::Entity::find()
        .filter(community_member::Column::ComparableName.eq(comparable_name));
    if let Some(user) = except {
        query = query.filter(community_member::Column::UserId.ne(user.0));
    }
    Ok(query.one(db).await?.is_some())
}

async fn list_matches<C: ConnectionTrait>(
    db: &C,
    partner_id: uuid::Uuid,
    membership_number: &str,
    email: &str,
) -> Result<bool, StoreError> {
    Ok(
        community_list_entry::Entity::find_by_id((partner_id, membership_number.to_owned()))
            .one(db)
            .await?
            .is_some_and(|entry| entry.email == email),
    )
}

/// Inserts an application, verified at once when the partner's list has
/// the number with the account's email.
async fn insert_member<C: ConnectionTrait>(
    db: &C,
    new: NewCommunityMember,
    email: &str,
) -> Result<community_member::Model, StoreError> {
    match community_member::Entity::find_by_id(new.user_id.0)
        .one(db)
        .await?
    {
        // A turned-down applicant may apply again; the new application
        // replaces the old.
        Some(old) if old.state == MembershipState::Rejected.as_str() => {
            community_member::Entity::delete_by_id(old.user_id)
                .exec(db)
                .await?;
        }
        Some(_) => {
            return Err(StoreError::Conflict {
                what: "community application",
            });
        }
        None => {}
    }
    if name_taken(db, &new.comparable_name, None).await? {
        return Err(StoreError::Conflict {
            what: "community display name",
        });
    }
    let matched = match (&new.partner_id, &new.membership_number) {
        (Some(partner), Some(number)) => list_matches(db, *partner, number, email).await?,
        _ => false,
    };
    let (state, decided_at, verified_how) = if matched {
        (
            MembershipState::Active,
            Some(new.at),
            Some(VerifiedHow::List.as_str().to_owned()),
        )
    } else {
        (MembershipState::Applied, None, None)
    };
    let row = community_member::Model {
        user_id: new.user_id.0,
        // Random, so it carries no time that could match the account's.
        member_id: uuid::Uuid::new_v4(),
        display_name: new.display_name,
        comparable_name: new.comparable_name,
        state: state.as_str().to_owned(),
        partner_id: new.partner_id,
        membership_number: new.membership_number,
        applied_at: new.at,
        decided_at,
        decided_by: None,
        verified_how,
        decision_reason: None,
        rules_version: None,
        rules_accepted_at: None,
        suspended_until: None,
        last_interaction_at: new.at,
    };
    community_member::Entity::insert(community_member::ActiveModel::from(row.clone()))
        .exec_without_returning(db)
        .await
        .map_err(|error| {
            if crate::error::is_unique_violation(&error) {
                StoreError::Conflict {
                    what: "community display name",
                }
            } else {
                error.into()
            }
        })?;
    Ok(row)
}

impl Store {
    /// Stores an application link for an address and queues its email,
    /// in one transaction. The email carries the link, or, for an address
    /// that has an account already, says to sign in and apply. Its token
    /// is made when the email is sent; until then the link holds a value
    /// no token hashes to.
    pub async fn queue_community_link(
        &self,
        email: &str,
        account_exists: bool,
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let id = uuid::Uuid::now_v7();
        let transaction = self.begin_write().await?;
        community_link::Entity::insert(community_link::ActiveModel {
            id: Set(id),
            email: Set(email.to_owned()),
            token_hash: Set(id.as_bytes().to_vec()),
            created_at: Set(at),
            expires_at: Set(expires_at),
            used_at: Set(None),
        })
        .exec_without_returning(&*transaction)
        .await?;
        let mut row = outbox_row(NewEmail {
            id: uuid::Uuid::now_v7(),
            // The email goes to the link's address, which has no account.
            user_id: UserId(uuid::Uuid::nil()),
            template: if account_exists {
                Template::CommunityAccountExists
            } else {
                Template::CommunityApplication
            },
            link_path: String::new(),
            send_after: at,
            created_at: at,
        });
        row.invitation_id = Set(Some(id));
        email_outbox::Entity::insert(row)
            .exec_without_returning(&*transaction)
            .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Finds an application link by the hash of its token.
    pub async fn community_link(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<community_link::Model>, StoreError> {
        Ok(community_link::Entity::find()
            .filter(community_link::Column::TokenHash.eq(token_hash.to_vec()))
            .one(&self.db)
            .await?)
    }

    /// Creates a community-only account from an application link, in one
    /// transaction: the link is spent, the account and the application are
    /// stored, or nothing is.
    pub async fn create_community_account(
        &self,
        link_id: uuid::Uuid,
        user: NewUser,
        member: NewCommunityMember,
    ) -> Result<community_member::Model, StoreError> {
        let transaction = self.begin_write().await?;
        let at = member.at;
        let spent = community_link::Entity::update_many()
            .col_expr(community_link::Column::UsedAt, Expr::value(Some(at)))
            .filter(community_link::Column::Id.eq(link_id))
            .filter(community_link::Column::UsedAt.is_null())
            .exec(&*transaction)
            .await?;
        if spent.rows_affected != 1 {
            transaction.rollback().await?;
            return Err(StoreError::Stale {
                what: "application link",
            });
        }
        let email = user.email.clone();
        insert_user(&*transaction, user).await.map_err(|error| {
            if error.is_unique_violation() {
                StoreError::Conflict { what: "account" }
            } else {
                error
            }
        })?;
        let row = insert_member(&*transaction, member, &email).await?;
        transaction.commit().await?;
        Ok(row)
    }

    /// Stores an application from a person who has an account.
    pub async fn apply_to_community(
        &self,
        member: NewCommunityMember,
    ) -> Result<community_member::Model, StoreError> {
        let email = self.user(member.user_id).await?.email;
        let transaction = self.begin_write().await?;
        let row = insert_member(&*transaction, member, &email).await?;
        transaction.commit().await?;
        Ok(row)
    }

    /// Loads a person's membership of the community, if they applied.
    pub async fn community_member(
        &self,
        user: UserId,
    ) -> Result<Option<community_member::Model>, StoreError> {
        Ok(community_member::Entity::find_by_id(user.0)
            .one(&self.db)
            .await?)
    }

    /// Finds the active member whose display name compares equal to
    /// `comparable_name`.
    pub async fn community_member_named(
        &self,
        comparable_name: &str,
    ) -> Result<Option<community_member::Model>, StoreError> {
        Ok(community_member::Entity::find()
            .filter(community_member::Column::ComparableName.eq(comparable_name))
            .filter(community_member::Column::State.eq(MembershipState::Active.as_str()))
            .one(&self.db)
            .await?)
    }

    /// Gives a moderator a place in the community under their account's
    /// name, so that the name is theirs and no member can take it. A name
    /// taken already gets " (moderator)" added, then a number.
    pub async fn ensure_moderator_member(
        &self,
        user: UserId,
        display_name: &str,
        partner: uuid::Uuid,
        at: DateTime<Utc>,
    ) -> Result<community_member::Model, StoreError> {
        if let Some(existing) = self.community_member(user).await? {
            return Ok(existing);
        }
        let base: String = display_name.chars().take(24).collect();
        for attempt in 0..20 {
            let name = match attempt {
                0 => base.clone(),
                1 => format!("{base} (moderator)"),
                n => format!("{base} (moderator {n})"),
            };
            let comparable = kinlink_core::community::comparable_display_name(&name);
            let row = community_member::Model {
                user_id: user.0,
                member_id: uuid::Uuid::new_v4(),
                display_name: name,
                comparable_name: comparable,
                state: MembershipState::Active.as_str().to_owned(),
                partner_id: Some(partner),
                membership_number: None,
                applied_at: at,
                decided_at: Some(at),
                decided_by: None,
                verified_how: None,
                decision_reason: None,
                rules_version: Some(kinlink_core::community::RULES_VERSION),
                rules_accepted_at: Some(at),
                suspended_until: None,
                last_interaction_at: at,
            };
            match community_member::Entity::insert(community_member::ActiveModel::from(row.clone()))
                .exec_without_returning(&self.db)
                .await
            {
                Ok(_) => return Ok(row),
                Err(error) if crate::error::is_unique_violation(&error) => {
                    // Another request made the row first, or the name is taken.
                    if let Some(existing) = self.community_member(user).await? {
                        return Ok(existing);
                    }
                }
                Err(error) => return Err(error.into()),
            }
        }
        Err(StoreError::Conflict {
            what: "community display name",
        })
    }

    /// Finds a membership by the member's community id.
    pub async fn community_member_by_id(
        &self,
        member_id: uuid::Uuid,
    ) -> Result<Option<community_member::Model>, StoreError> {
        Ok(community_member::Entity::find()
            .filter(community_member::Column::MemberId.eq(member_id))
            .one(&self.db)
            .await?)
    }

    /// Loads the memberships of several people.
    pub async fn community_members(
        &self,
        users: Vec<uuid::Uuid>,
    ) -> Result<Vec<community_member::Model>, StoreError> {
        Ok(community_member::Entity::find()
            .filter(community_member::Column::UserId.is_in(users))
            .all(&self.db)
            .await?)
    }

    /// Lists the waiting applications that named one of `partners`, or
    /// named none, oldest first, with each account's email.
    pub async fn community_applications(
        &self,
        partners: &[uuid::Uuid],
    ) -> Result<Vec<Application>, StoreError> {
        let rows = community_member::Entity::find()
            .filter(community_member::Column::State.eq(MembershipState::Applied.as_str()))
            .filter(
                Condition::any()
                    .add(community_member::Column::PartnerId.is_null())
                    .add(community_member::Column::PartnerId.is_in(partners.iter().copied())),
            )
            .order_by_asc(community_member::Column::AppliedAt)
            .all(&self.db)
            .await?;
        let mut applications = Vec::with_capacity(rows.len());
        for member in rows {
            let email = user::Entity::find_by_id(member.user_id)
                .one(&self.db)
                .await?
                .ok_or(StoreError::NotFound { what: "user" })?
                .email;
            let list_match = match (&member.partner_id, &member.membership_number) {
                (Some(partner), Some(number)) => {
                    list_matches(&self.db, *partner, number, &email).await?
                }
                _ => false,
            };
            applications.push(Application {
                member,
                email,
                list_match,
            });
        }
        Ok(applications)
    }

    /// Verifies or turns down a waiting application. Returns `Conflict`
    /// when it is no longer waiting.
    pub async fn decide_community_application(
        &self,
        user: UserId,
        verify: bool,
        reason: Option<String>,
        moderator: UserId,
        at: DateTime<Utc>,
    ) -> Result<community_member::Model, StoreError> {
        let (state, how) = if verify {
            (MembershipState::Active, Some(VerifiedHow::Hand.as_str()))
        } else {
            (MembershipState::Rejected, None)
        };
        let changed = community_member::Entity::update_many()
            .col_expr(community_member::Column::State, Expr::value(state.as_str()))
            .col_expr(community_member::Column::DecidedAt, Expr::value(Some(at)))
            .col_expr(
                community_member::Column::DecidedBy,
                Expr::value(Some(moderator.0)),
            )
            .col_expr(community_member::Column::VerifiedHow, Expr::value(how))
            .col_expr(
                community_member::Column::DecisionReason,
                Expr::value(reason),
            )
            .filter(community_member::Column::UserId.eq(user.0))
            .filter(community_member::Column::State.eq(MembershipState::Applied.as_str()))
            .exec(&self.db)
            .await?;
        if changed.rows_affected != 1 {
            return Err(StoreError::Conflict {
                what: "decision on this application",
            });
        }
        self.community_member(user)
            .await?
            .ok_or(StoreError::NotFound {
                what: "community member",
            })
    }

    /// Replaces a partner's whole membership list and verifies every
    /// waiting applicant of that partner whose number and email it has,
    /// in one transaction.
    pub async fn replace_membership_list(
        &self,
        partner: uuid::Uuid,
        entries: Vec<ListEntry>,
        at: DateTime<Utc>,
    ) -> Result<ListImport, StoreError> {
        let transaction = self.begin_write().await?;
        community_list_entry::Entity::delete_many()
            .filter(community_list_entry::Column::PartnerId.eq(partner))
            .exec(&*transaction)
            .await?;
        let count = entries.len();
        let mut by_number = std::collections::HashMap::with_capacity(count);
        for chunk in entries.chunks(500) {
            community_list_entry::Entity::insert_many(chunk.iter().map(|entry| {
                community_list_entry::ActiveModel {
                    partner_id: Set(partner),
                    membership_number: Set(entry.membership_number.clone()),
                    email: Set(entry.email.clone()),
                    imported_at: Set(at),
                }
            }))
            .exec_without_returning(&*transaction)
            .await?;
        }
        for entry in &entries {
            by_number.insert(entry.membership_number.as_str(), entry.email.as_str());
        }
        let waiting = community_member::Entity::find()
            .filter(community_member::Column::PartnerId.eq(partner))
            .filter(community_member::Column::State.eq(MembershipState::Applied.as_str()))
            .all(&*transaction)
            .await?;
        let mut verified = Vec::new();
        for member in waiting {
            let Some(number) = member.membership_number.as_deref() else {
                continue;
            };
            let Some(listed_email) = by_number.get(number) else {
                continue;
            };
            let email = user::Entity::find_by_id(member.user_id)
                .one(&*transaction)
                .await?
                .map(|account| account.email);
            if email.as_deref() != Some(*listed_email) {
                continue;
            }
            community_member::Entity::update_many()
                .col_expr(
                    community_member::Column::State,
                    Expr::value(MembershipState::Active.as_str()),
                )
                .col_expr(community_member::Column::DecidedAt, Expr::value(Some(at)))
                .col_expr(
                    community_member::Column::VerifiedHow,
                    Expr::value(Some(VerifiedHow::List.as_str())),
                )
                .filter(community_member::Column::UserId.eq(member.user_id))
                .exec(&*transaction)
                .await?;
            verified.push(UserId(member.user_id));
        }
        transaction.commit().await?;
        Ok(ListImport {
            entries: count,
            verified,
        })
    }

    /// Records that a member accepted a version of the rules.
    pub async fn accept_community_rules(
        &self,
        user: UserId,
        version: i32,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        community_member::Entity::update_many()
            .col_expr(
                community_member::Column::RulesVersion,
                Expr::value(Some(version)),
            )
            .col_expr(
                community_member::Column::RulesAcceptedAt,
                Expr::value(Some(at)),
            )
            .filter(community_member::Column::UserId.eq(user.0))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Records a member's interaction with the community, from which the
    /// retention of their profile counts.
    pub async fn touch_community_member(
        &self,
        user: UserId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        community_member::Entity::update_many()
            .col_expr(community_member::Column::LastInteractionAt, Expr::value(at))
            .filter(community_member::Column::UserId.eq(user.0))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Suspends a member until a time, or lifts the suspension.
    pub async fn set_community_suspension(
        &self,
        user: UserId,
        until: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let changed = community_member::Entity::update_many()
            .col_expr(community_member::Column::SuspendedUntil, Expr::value(until))
            .filter(community_member::Column::UserId.eq(user.0))
            .filter(community_member::Column::State.eq(MembershipState::Active.as_str()))
            .exec(&self.db)
            .await?;
        if changed.rows_affected != 1 {
            return Err(StoreError::NotFound {
                what: "community member",
            });
        }
        Ok(())
    }

    /// Loads a member's profile.
    pub async fn community_profile(
        &self,
        user: UserId,
    ) -> Result<Option<community_profile::Model>, StoreError> {
        Ok(community_profile::Entity::find_by_id(user.0)
            .one(&self.db)
            .await?)
    }

    /// Replaces a member's display name and profile in one transaction.
    /// The picture must be one of the member's ready images that no post
    /// shows. Returns the blobs of the picture it replaced, to delete.
    pub async fn put_community_profile(
        &self,
        display_name: (String, String),
        profile: community_profile::Model,
    ) -> Result<Vec<uuid::Uuid>, StoreError> {
        let user = UserId(profile.user_id);
        let transaction = self.begin_write().await?;
        let (name, comparable) = display_name;
        if name_taken(&*transaction, &comparable, Some(user)).await? {
            transaction.rollback().await?;
            return Err(StoreError::Conflict {
                what: "community display name",
            });
        }
        community_member::Entity::update_many()
            .col_expr(community_member::Column::DisplayName, Expr::value(name))
            .col_expr(
                community_member::Column::ComparableName,
                Expr::value(comparable),
            )
            .col_expr(
                community_member::Column::LastInteractionAt,
                Expr::value(profile.updated_at),
            )
            .filter(community_member::Column::UserId.eq(user.0))
            .exec(&*transaction)
            .await?;
        if let Some(picture) = profile.picture_id
            && !super::images::usable_as_picture(&*transaction, user, picture).await?
        {
            transaction.rollback().await?;
            return Err(StoreError::NotFound { what: "image" });
        }
        let replaced = community_profile::Entity::find_by_id(user.0)
            .one(&*transaction)
            .await?
            .and_then(|old| old.picture_id)
            .filter(|old| Some(*old) != profile.picture_id);
        community_profile::Entity::delete_by_id(user.0)
            .exec(&*transaction)
            .await?;
        let blobs =
            super::images::delete_images(&*transaction, replaced.into_iter().collect()).await?;
        community_profile::Entity::insert(community_profile::ActiveModel::from(profile))
            .exec_without_returning(&*transaction)
            .await?;
        transaction.commit().await?;
        Ok(blobs)
    }

    /// Deletes a member's profile with its picture; returns the picture's
    /// blobs, to delete.
    pub async fn delete_community_profile(
        &self,
        user: UserId,
    ) -> Result<Vec<uuid::Uuid>, StoreError> {
        let transaction = self.begin_write().await?;
        let picture = community_profile::Entity::find_by_id(user.0)
            .one(&*transaction)
            .await?
            .and_then(|profile| profile.picture_id);
        community_profile::Entity::delete_by_id(user.0)
            .exec(&*transaction)
            .await?;
        let blobs =
            super::images::delete_images(&*transaction, picture.into_iter().collect()).await?;
        transaction.commit().await?;
        Ok(blobs)
    }
}
