//! Expressions of interest and the discussions they open.

use chrono::{DateTime, Utc};
use kinlink_core::{OrganisationId, UserId};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveValue::{Set, Unchanged},
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::conversations::{NewConversation, insert_conversation};
use crate::entity::{case, interest};
use crate::{Store, StoreError};

/// The end reason of the interests a placement with another family ends.
pub const ANOTHER_FAMILY_CHOSEN: &str = "another_family_chosen";

/// The states in which the two organisations still work on an interest:
/// those that have not ended, and placed. Members of its discussion read
/// the cases, and an anonymous profile shows its names, only then.
pub const LIVE_STATES: [&str; 4] = ["open", "progressing", "linked", "placed"];

/// The states in which an interest has not ended.
pub const UNFINISHED_STATES: [&str; 3] = ["open", "progressing", "linked"];

/// An interest to open, with its discussion.
pub struct NewInterest {
    pub id: uuid::Uuid,
    pub child_case_id: uuid::Uuid,
    pub family_case_id: uuid::Uuid,
    /// The organisations that held the child's and the family's cases when
    /// the request read them, which the discussion's keys are sealed for.
    pub child_organisation: OrganisationId,
    pub family_organisation: OrganisationId,
    pub opened_by: UserId,
    pub at: DateTime<Utc>,
    pub discussion: NewConversation,
}

/// An interest moved to its new state, with the interests that its move
/// ended.
#[derive(Debug)]
pub struct Moved {
    pub interest: interest::Model,
    /// The child's other interests, declined because it was placed.
    pub ended: Vec<interest::Model>,
}

/// The outcome of opening an interest.
#[derive(Debug)]
pub enum Opened {
    /// The interest and its discussion are stored.
    Opened(interest::Model),
    /// The family already has `open` unfinished interests, the most it may.
    AtLimit { open: u64 },
    /// The family already has an unfinished interest in this child.
    AlreadyOpen,
    /// One of the two cases left family finding, or moved to another
    /// organisation, since the request read it.
    CaseChanged,
}

impl Store {
    /// Stores an interest with its discussion in one transaction, unless
    /// the family is at `max_open` unfinished interests or already has one
    /// in this child. The count is taken under the family case's lock, so
    /// requests made at the same time cannot pass the limit together.
    pub async fn open_interest(
        &self,
        new: NewInterest,
        max_open: u64,
    ) -> Result<Opened, StoreError> {
        let transaction = self.begin_write().await?;
        // The child's row first, as every other writer of interests locks
        // it first too.
        let child = lock_case(&transaction, new.child_case_id).await?;
        let family = lock_case(&transaction, new.family_case_id).await?;
        let current = |case: &Option<case::Model>, organisation: OrganisationId| {
            case.as_ref().is_some_and(|case| {
                case.status == "active"
                    && case.organisation_id == organisation.0
                    && case.marked_at.is_none()
            })
        };
        if !current(&child, new.child_organisation) || !current(&family, new.family_organisation) {
            return Ok(Opened::CaseChanged);
        }
        // An interest in a child case marked to go is hidden, so it does
        // not count towards the family's limit.
        let unfinished = interest::Entity::find()
            .filter(interest::Column::FamilyCaseId.eq(new.family_case_id))
            .filter(interest::Column::State.is_in(UNFINISHED_STATES))
            .filter(interest::Column::ChildCaseId.not_in_subquery(marked_cases()));
        let same_child = unfinished
            .clone()
            .filter(interest::Column::ChildCaseId.eq(new.child_case_id))
            .count(&*transaction)
            .await?;
        if same_child > 0 {
            return Ok(Opened::AlreadyOpen);
        }
        let open = unfinished.count(&*transaction).await?;
        if open >= max_open {
            return Ok(Opened::AtLimit { open });
        }
        let row = interest::Model {
            id: new.id,
            child_case_id: new.child_case_id,
            family_case_id: new.family_case_id,
            conversation_id: new.discussion.id.0,
            state: "open".to_owned(),
            reason: None,
            opened_by: new.opened_by.0,
            opened_at: new.at,
            updated_by: new.opened_by.0,
            updated_at: new.at,
        };
        insert_conversation(&*transaction, new.discussion).await?;
        interest::Entity::insert(interest::ActiveModel::from(row.clone()))
            .exec_without_returning(&*transaction)
            .await?;
        touch_cases(
            &*transaction,
            &[row.child_case_id, row.family_case_id],
            new.at,
        )
        .await?;
        transaction.commit().await?;
        Ok(Opened::Opened(row))
    }

    /// Loads an interest, or `None` when there is no such interest.
    pub async fn interest(&self, id: uuid::Uuid) -> Result<Option<interest::Model>, StoreError> {
        Ok(interest::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Moves an interest to `state` with its `reason`, if it is still in
    /// `from`; returns `None` when another request moved it first. Placing
    /// a child takes the child case out of family finding in the same
    /// transaction.
    pub async fn move_interest(
        &self,
        current: &interest::Model,
        state: &str,
        reason: Option<&str>,
        by: UserId,
        at: DateTime<Utc>,
    ) -> Result<Option<Moved>, StoreError> {
        let transaction = self.begin_write().await?;
        let child = lock_case(&transaction, current.child_case_id).await?;
        let child_active = child.is_some_and(|child| child.status == "active");
        if !child_active && matches!(state, "progressing" | "linked" | "placed") {
            // Another interest placed the child meanwhile.
            return Ok(None);
        }
        let moved = interest::Entity::update_many()
            .col_expr(interest::Column::State, state.into())
            .col_expr(interest::Column::Reason, reason.map(str::to_owned).into())
            .col_expr(interest::Column::UpdatedBy, by.0.into())
            .col_expr(interest::Column::UpdatedAt, at.into())
            .filter(interest::Column::Id.eq(current.id))
            .filter(interest::Column::State.eq(current.state.as_str()))
            .exec(&*transaction)
            .await?;
        if moved.rows_affected == 0 {
            return Ok(None);
        }
        let mut declined = Vec::new();
        if state == "placed" {
            case::Entity::update(case::ActiveModel {
                id: Unchanged(current.child_case_id),
                status: Set("placed".to_owned()),
                ..Default::default()
            })
            .exec(&*transaction)
            .await?;
            // The child's other interests end, so they stop counting
            // towards their families' limits.
            declined = interest::Entity::find()
                .filter(interest::Column::ChildCaseId.eq(current.child_case_id))
                .filter(interest::Column::Id.ne(current.id))
                .filter(interest::Column::State.is_in(UNFINISHED_STATES))
                .all(&*transaction)
                .await?
                .into_iter()
                .map(|row| row.id)
                .collect();
            interest::Entity::update_many()
                .col_expr(interest::Column::State, "declined".into())
                .col_expr(interest::Column::Reason, ANOTHER_FAMILY_CHOSEN.into())
                .col_expr(interest::Column::UpdatedBy, by.0.into())
                .col_expr(interest::Column::UpdatedAt, at.into())
                .filter(interest::Column::ChildCaseId.eq(current.child_case_id))
                .filter(interest::Column::Id.ne(current.id))
                .filter(interest::Column::State.is_in(UNFINISHED_STATES))
                .exec(&*transaction)
                .await?;
        }
        touch_cases(
            &*transaction,
            &[current.child_case_id, current.family_case_id],
            at,
        )
        .await?;
        transaction.commit().await?;
        let Some(interest) = interest::Entity::find_by_id(current.id)
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let mut ended = Vec::new();
        for id in declined {
            if let Some(row) = interest::Entity::find_by_id(id).one(&self.db).await? {
                ended.push(row);
            }
        }
        Ok(Some(Moved { interest, ended }))
    }

    /// Lists the interests in cases of an organisation, on either side,
    /// most recently changed first, leaving out those about a case marked
    /// to go.
    pub async fn organisation_interests(
        &self,
        organisation: OrganisationId,
    ) -> Result<Vec<interest::Model>, StoreError> {
        let own_cases = Query::select()
            .column(case::Column::Id)
            .from(case::Entity)
            .and_where(case::Column::OrganisationId.eq(organisation.0))
            .to_owned();
        Ok(interest::Entity::find()
            .filter(
                Condition::any()
                    .add(interest::Column::ChildCaseId.in_subquery(own_cases.clone()))
                    .add(interest::Column::FamilyCaseId.in_subquery(own_cases)),
            )
            .filter(interest::Column::ChildCaseId.not_in_subquery(marked_cases()))
            .filter(interest::Column::FamilyCaseId.not_in_subquery(marked_cases()))
            .order_by_desc(interest::Column::UpdatedAt)
            .order_by_desc(interest::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// Returns whether a case has an interest with a case of the other
    /// kind held by `organisation`, which lifts the case's anonymity for
    /// that organisation.
    pub async fn discussed_with(
        &self,
        case_id: uuid::Uuid,
        is_child: bool,
        organisation: OrganisationId,
    ) -> Result<bool, StoreError> {
        let theirs = Query::select()
            .column(case::Column::Id)
            .from(case::Entity)
            .and_where(case::Column::OrganisationId.eq(organisation.0))
            .to_owned();
        let (own_column, other_column) = if is_child {
            (
                interest::Column::ChildCaseId,
                interest::Column::FamilyCaseId,
            )
        } else {
            (
                interest::Column::FamilyCaseId,
                interest::Column::ChildCaseId,
            )
        };
        let found = interest::Entity::find()
            .filter(own_column.eq(case_id))
            .filter(other_column.in_subquery(theirs))
            .filter(interest::Column::State.is_in(LIVE_STATES))
            .count(&self.db)
            .await?;
        Ok(found > 0)
    }

    /// Loads the interest a discussion belongs to, if any.
    pub async fn interest_of_conversation(
        &self,
        conversation: uuid::Uuid,
    ) -> Result<Option<interest::Model>, StoreError> {
        Ok(interest::Entity::find()
            .filter(interest::Column::ConversationId.eq(conversation))
            .one(&self.db)
            .await?)
    }

    /// Lists the discussions about a case whose interest is live (see
    /// [`LIVE_STATES`]), as their conversation ids.
    pub async fn live_case_discussions(
        &self,
        case_id: uuid::Uuid,
    ) -> Result<Vec<uuid::Uuid>, StoreError> {
        Ok(interest::Entity::find()
            .select_only()
            .column(interest::Column::ConversationId)
            .filter(about_case(case_id))
            .filter(interest::Column::State.is_in(LIVE_STATES))
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// Lists the discussions about a case, as their conversation ids.
    pub async fn case_discussions(
        &self,
        case_id: uuid::Uuid,
    ) -> Result<Vec<uuid::Uuid>, StoreError> {
        let rows: Vec<uuid::Uuid> = interest::Entity::find()
            .select_only()
            .column(interest::Column::ConversationId)
            .filter(about_case(case_id))
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows)
    }
}

/// Selects the ids of the cases marked to go.
pub(crate) fn marked_cases() -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(case::Column::Id)
        .from(case::Entity)
        .and_where(case::Column::MarkedAt.is_not_null())
        .to_owned()
}

/// Selects the interests in which a case is the child's or the family's.
fn about_case(case_id: uuid::Uuid) -> Condition {
    Condition::any()
        .add(interest::Column::ChildCaseId.eq(case_id))
        .add(interest::Column::FamilyCaseId.eq(case_id))
}

/// Loads a case inside a write transaction, locking its row on PostgreSQL
/// so interests of the child are changed one at a time across nodes.
/// SQLite's write transaction is already the only writer.
async fn lock_case(
    transaction: &crate::connect::WriteTransaction,
    id: uuid::Uuid,
) -> Result<Option<case::Model>, StoreError> {
    let mut select = case::Entity::find_by_id(id);
    if transaction.get_database_backend() == DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    Ok(select.one(&**transaction).await?)
}

/// Marks cases as active now, which the retention rules count from.
async fn touch_cases(
    db: &impl ConnectionTrait,
    ids: &[uuid::Uuid],
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    case::Entity::update_many()
        .col_expr(case::Column::LastActivityAt, at.into())
        .filter(case::Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}
