//! Rights requests: recording a request, listing an organisation's or a
//! person's requests, and moving a request on until it is closed.

use chrono::{DateTime, NaiveDate, Utc};
use kinlink_core::rights::{RightsKind, RightsState};
use kinlink_core::{OrganisationId, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::entity::rights_request;
use crate::{Store, StoreError};

/// A request to record.
pub struct NewRightsRequest {
    pub id: uuid::Uuid,
    pub organisation_id: Option<OrganisationId>,
    pub subject_user_id: Option<UserId>,
    pub sealed_subject: Option<Vec<u8>>,
    pub kind: RightsKind,
    pub sealed_details: Option<Vec<u8>>,
    pub recorded_by: UserId,
    pub received_at: DateTime<Utc>,
    pub due_on: NaiveDate,
}

/// A move of a request to a new state.
pub struct RightsMove<'a> {
    pub id: uuid::Uuid,
    /// The state the caller read; the move fails if it changed since.
    pub from: RightsState,
    pub to: RightsState,
    pub reason: Option<&'a str>,
    pub by: UserId,
    pub at: DateTime<Utc>,
}

impl Store {
    /// Stores a new request in the `received` state.
    pub async fn record_rights_request(
        &self,
        new: NewRightsRequest,
    ) -> Result<rights_request::Model, StoreError> {
        let row = rights_request::ActiveModel {
            id: Set(new.id),
            organisation_id: Set(new.organisation_id.map(|id| id.0)),
            subject_user_id: Set(new.subject_user_id.map(|id| id.0)),
            sealed_subject: Set(new.sealed_subject),
            kind: Set(new.kind.as_str().to_owned()),
            state: Set(RightsState::Received.as_str().to_owned()),
            sealed_details: Set(new.sealed_details),
            recorded_by: Set(new.recorded_by.0),
            received_at: Set(new.received_at),
            due_on: Set(new.due_on),
            closed_at: Set(None),
            closed_by: Set(None),
            reason: Set(None),
            updated_at: Set(new.received_at),
        };
        rights_request::Entity::insert(row)
            .exec_without_returning(&self.db)
            .await?;
        self.rights_request(new.id)
            .await?
            .ok_or(StoreError::NotFound {
                what: "rights request",
            })
    }

    /// Loads a request.
    pub async fn rights_request(
        &self,
        id: uuid::Uuid,
    ) -> Result<Option<rights_request::Model>, StoreError> {
        Ok(rights_request::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Lists the requests an organisation handles (or, for `None`, the
    /// platform's operator), open ones first by due date, then closed ones
    /// most recently closed first.
    pub async fn rights_requests_of_organisation(
        &self,
        organisation: Option<OrganisationId>,
    ) -> Result<Vec<rights_request::Model>, StoreError> {
        let owner = match organisation {
            Some(id) => rights_request::Column::OrganisationId.eq(id.0),
            None => rights_request::Column::OrganisationId.is_null(),
        };
        let mut rows = rights_request::Entity::find()
            .filter(owner)
            .order_by_asc(rights_request::Column::DueOn)
            .order_by_asc(rights_request::Column::ReceivedAt)
            .all(&self.db)
            .await?;
        sort_open_first(&mut rows);
        Ok(rows)
    }

    /// Lists the requests about a person, in the same order.
    pub async fn rights_requests_of_person(
        &self,
        user: UserId,
    ) -> Result<Vec<rights_request::Model>, StoreError> {
        let mut rows = rights_request::Entity::find()
            .filter(rights_request::Column::SubjectUserId.eq(user.0))
            .order_by_asc(rights_request::Column::DueOn)
            .order_by_asc(rights_request::Column::ReceivedAt)
            .all(&self.db)
            .await?;
        sort_open_first(&mut rows);
        Ok(rows)
    }

    /// Moves a request to a new state if it is still in the state the
    /// caller read. Returns the updated request, or `None` when another
    /// change came first.
    pub async fn move_rights_request(
        &self,
        change: RightsMove<'_>,
    ) -> Result<Option<rights_request::Model>, StoreError> {
        let closing = change.to.is_closed();
        let mut update = rights_request::Entity::update_many()
            .col_expr(
                rights_request::Column::State,
                Expr::value(change.to.as_str()),
            )
            .col_expr(rights_request::Column::UpdatedAt, Expr::value(change.at));
        if closing {
            update = update
                .col_expr(rights_request::Column::ClosedAt, Expr::value(change.at))
                .col_expr(rights_request::Column::ClosedBy, Expr::value(change.by.0))
                .col_expr(
                    rights_request::Column::Reason,
                    Expr::value(change.reason.map(str::to_owned)),
                );
        }
        let moved = update
            .filter(rights_request::Column::Id.eq(change.id))
            .filter(rights_request::Column::State.eq(change.from.as_str()))
            .exec(&self.db)
            .await?;
        if moved.rows_affected == 0 {
            return Ok(None);
        }
        self.rights_request(change.id).await
    }
}

/// Puts open requests before closed ones, keeping the order within each,
/// and closed ones most recently closed first.
fn sort_open_first(rows: &mut [rights_request::Model]) {
    rows.sort_by(|a, b| {
        let a_closed = a.closed_at.is_some();
        let b_closed = b.closed_at.is_some();
        a_closed
            .cmp(&b_closed)
            .then_with(|| match (a.closed_at, b.closed_at) {
                (Some(a_at), Some(b_at)) => b_at.cmp(&a_at),
                _ => std::cmp::Ordering::Equal,
            })
    });
}
