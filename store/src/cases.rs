//! Family-finding cases: their coded columns, sealed profiles, who they are
//! published to, and the searches over them.

use chrono::{DateTime, Utc};
use kinlink_core::{OrganisationId, UserId};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveValue::{Set, Unchanged},
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::entity::{audit_event, case, case_share, organisation};
use crate::{Store, StoreError};

/// The coded columns of a case, which search, matching and statistics read.
#[derive(Clone, Debug)]
pub struct CaseColumns {
    pub region: String,
    pub ethnicity: String,
    pub plan: Option<String>,
    pub legal_status: Option<String>,
    pub approved_for: Option<String>,
    pub min_age: i16,
    pub max_age: i16,
    pub group_size: i16,
    /// Each child's age, comma-separated (child cases only).
    pub child_ages: Option<String>,
    pub needs: [i16; 3],
}

/// A case to insert.
pub struct NewCase {
    pub id: uuid::Uuid,
    pub kind: &'static str,
    pub organisation_id: OrganisationId,
    pub created_by: UserId,
    pub columns: CaseColumns,
    pub sealed_profile: Vec<u8>,
    pub at: DateTime<Utc>,
}

/// The organisations a case is published to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Publication {
    /// Only the owning organisation can see it.
    Draft,
    /// Every licensed organisation sees it.
    All,
    /// The named organisations see it.
    Named(Vec<OrganisationId>),
}

impl Publication {
    /// Returns the stored visibility code.
    pub fn code(&self) -> &'static str {
        match self {
            Publication::Draft => "draft",
            Publication::All => "all",
            Publication::Named(_) => "named",
        }
    }
}

/// A search over the cases an organisation may see. Each filter left
/// `None` matches every case.
#[derive(Clone, Debug, Default)]
pub struct CaseQuery {
    pub kind: &'static str,
    /// The searching organisation: its own published cases and the cases
    /// published to it are searched.
    pub viewer: Option<OrganisationId>,
    pub now: Option<DateTime<Utc>>,
    /// Every child aged at least this (child cases).
    pub min_age: Option<i16>,
    /// Every child aged at most this (child cases).
    pub max_age: Option<i16>,
    /// The family offers this age (family cases).
    pub offers_age: Option<i16>,
    pub min_group_size: Option<i16>,
    pub max_group_size: Option<i16>,
    pub region: Option<String>,
    pub legal_status: Option<String>,
    /// The child's plan (child cases) or one the family is approved for
    /// (family cases).
    pub plan: Option<String>,
    /// Each area's level at most this (child cases' needs).
    pub max_needs: [Option<i16>; 3],
    /// Each area's level at least this (family cases' capacity).
    pub min_needs: [Option<i16>; 3],
    /// Zero-based page number.
    pub page: u64,
    pub page_size: u64,
}

/// One page of a search, with the count of every match.
pub struct CasePage {
    pub cases: Vec<case::Model>,
    pub total: u64,
}

impl Store {
    /// Inserts a case as a draft.
    pub async fn create_case(&self, new: NewCase) -> Result<case::Model, StoreError> {
        let columns = new.columns;
        let mut row = case::ActiveModel {
            id: Set(new.id),
            kind: Set(new.kind.to_owned()),
            organisation_id: Set(new.organisation_id.0),
            created_by: Set(new.created_by.0),
            visibility: Set(Publication::Draft.code().to_owned()),
            anonymous: Set(false),
            status: Set("active".to_owned()),
            sealed_profile: Set(new.sealed_profile),
            family_user_id: Set(None),
            created_at: Set(new.at),
            updated_at: Set(new.at),
            last_activity_at: Set(new.at),
            ..Default::default()
        };
        set_columns(&mut row, columns);
        case::Entity::insert(row)
            .exec_without_returning(&self.db)
            .await?;
        self.case(new.id)
            .await?
            .ok_or(StoreError::NotFound { what: "case" })
    }

    /// Loads a case, or `None` when there is no such case.
    pub async fn case(&self, id: uuid::Uuid) -> Result<Option<case::Model>, StoreError> {
        Ok(case::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Replaces a case's coded columns and sealed profile if `owner` still
    /// has the case. Otherwise it returns a conflict, as after a transfer
    /// that finished while the request was on its way.
    pub async fn update_case(
        &self,
        id: uuid::Uuid,
        owner: OrganisationId,
        read_version: Option<DateTime<Utc>>,
        columns: CaseColumns,
        sealed_profile: Vec<u8>,
        at: DateTime<Utc>,
    ) -> Result<case::Model, StoreError> {
        let transaction = self.begin_write().await?;
        let mut row = case::ActiveModel {
            id: Unchanged(id),
            sealed_profile: Set(sealed_profile),
            updated_at: Set(at),
            last_activity_at: Set(at),
            ..Default::default()
        };
        set_columns(&mut row, columns);
        require_owner(&*transaction, id, owner, read_version).await?;
        let updated = case::Entity::update(row).exec(&*transaction).await?;
        transaction.commit().await?;
        Ok(updated)
    }

    /// Sets who a case is published to and whether it is anonymous, in one
    /// transaction, so a reader never sees the named list half replaced.
    pub async fn publish_case(
        &self,
        id: uuid::Uuid,
        owner: OrganisationId,
        read_version: Option<DateTime<Utc>>,
        publication: &Publication,
        anonymous: bool,
        at: DateTime<Utc>,
    ) -> Result<case::Model, StoreError> {
        let transaction = self.begin_write().await?;
        require_owner(&*transaction, id, owner, read_version).await?;
        let row = case::ActiveModel {
            id: Unchanged(id),
            visibility: Set(publication.code().to_owned()),
            anonymous: Set(anonymous),
            updated_at: Set(at),
            last_activity_at: Set(at),
            ..Default::default()
        };
        let updated = case::Entity::update(row).exec(&*transaction).await?;
        case_share::Entity::delete_many()
            .filter(case_share::Column::CaseId.eq(id))
            .exec(&*transaction)
            .await?;
        if let Publication::Named(organisations) = publication {
            let rows = organisations
                .iter()
                .map(|organisation| case_share::ActiveModel {
                    case_id: Set(id),
                    organisation_id: Set(organisation.0),
                });
            case_share::Entity::insert_many(rows)
                .exec_without_returning(&*transaction)
                .await?;
        }
        transaction.commit().await?;
        Ok(updated)
    }

    /// Lists the organisations a case is published to by name.
    pub async fn case_shares(&self, id: uuid::Uuid) -> Result<Vec<OrganisationId>, StoreError> {
        let rows = case_share::Entity::find()
            .filter(case_share::Column::CaseId.eq(id))
            .order_by_asc(case_share::Column::OrganisationId)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| OrganisationId(row.organisation_id))
            .collect())
    }

    /// Returns whether a case is published by name to an organisation.
    pub async fn case_shared_with(
        &self,
        id: uuid::Uuid,
        organisation: OrganisationId,
    ) -> Result<bool, StoreError> {
        Ok(case_share::Entity::find_by_id((id, organisation.0))
            .one(&self.db)
            .await?
            .is_some())
    }

    /// Lists an organisation's own cases of one kind that are not marked to
    /// go, most recently active first.
    pub async fn organisation_cases(
        &self,
        organisation: OrganisationId,
        kind: &str,
    ) -> Result<Vec<case::Model>, StoreError> {
        Ok(case::Entity::find()
            .filter(case::Column::OrganisationId.eq(organisation.0))
            .filter(case::Column::Kind.eq(kind))
            .filter(case::Column::MarkedAt.is_null())
            .order_by_desc(case::Column::LastActivityAt)
            .order_by_desc(case::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// Lists the family cases whose family is the account `user`, leaving
    /// out those marked to go.
    pub async fn family_cases_of(&self, user: UserId) -> Result<Vec<case::Model>, StoreError> {
        Ok(case::Entity::find()
            .filter(case::Column::FamilyUserId.eq(user.0))
            .filter(case::Column::MarkedAt.is_null())
            .order_by_desc(case::Column::LastActivityAt)
            .all(&self.db)
            .await?)
    }

    /// Removes the link between a family case of `owner` and its family's
    /// account; returns the account that was linked.
    pub async fn unlink_family_account(
        &self,
        id: uuid::Uuid,
        owner: OrganisationId,
    ) -> Result<Option<UserId>, StoreError> {
        let transaction = self.begin_write().await?;
        require_owner(&*transaction, id, owner, None).await?;
        let linked = case::Entity::find_by_id(id)
            .one(&*transaction)
            .await?
            .and_then(|row| row.family_user_id);
        case::Entity::update_many()
            .col_expr(
                case::Column::FamilyUserId,
                Expr::value(Option::<uuid::Uuid>::None),
            )
            .filter(case::Column::Id.eq(id))
            .exec(&*transaction)
            .await?;
        transaction.commit().await?;
        Ok(linked.map(UserId))
    }

    /// Returns one page of the active cases `query.viewer` may see that
    /// match every filter, most recently active first.
    pub async fn search_cases(&self, query: &CaseQuery) -> Result<CasePage, StoreError> {
        let condition = search_condition(query);
        let select = case::Entity::find().filter(condition);
        let total = select.clone().count(&self.db).await?;
        let cases = select
            .order_by_desc(case::Column::LastActivityAt)
            .order_by_desc(case::Column::Id)
            .offset(query.page * query.page_size)
            .limit(query.page_size)
            .all(&self.db)
            .await?;
        Ok(CasePage { cases, total })
    }

    /// Counts the views of each of an organisation's cases by workers of
    /// other organisations, from the audit trail.
    pub async fn case_view_counts(
        &self,
        organisation: OrganisationId,
    ) -> Result<Vec<(uuid::Uuid, i64)>, StoreError> {
        let rows: Vec<(Option<uuid::Uuid>, i64)> = audit_event::Entity::find()
            .select_only()
            .column(audit_event::Column::SubjectId)
            .column_as(audit_event::Column::Id.count(), "views")
            .filter(audit_event::Column::OrganisationId.eq(organisation.0))
            .filter(audit_event::Column::Action.eq(CASE_VIEWED_BY_OTHERS))
            .group_by(audit_event::Column::SubjectId)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, views)| id.map(|id| (id, views)))
            .collect())
    }
}

impl Store {
    /// Counts the published active family cases of licensed organisations
    /// by region and ethnic group. Drafts are left out, so that a worker
    /// cannot add and later remove unseen cases to work out other
    /// organisations' small counts.
    // NOTE: a worker can still pad the counts with published profiles,
    // which other organisations see; suppression alone does not stop an
    // insider who adds records between two requests.
    pub async fn family_counts(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        Ok(case::Entity::find()
            .select_only()
            .column(case::Column::Region)
            .column(case::Column::Ethnicity)
            .column_as(case::Column::Id.count(), "families")
            .filter(case::Column::Kind.eq("family"))
            .filter(case::Column::Status.eq("active"))
            .filter(case::Column::Visibility.ne("draft"))
            .filter(case::Column::MarkedAt.is_null())
            .filter(case::Column::OrganisationId.in_subquery(licensed_organisations(now)))
            .group_by(case::Column::Region)
            .group_by(case::Column::Ethnicity)
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// Lists the children's ages of every published active child case of a
    /// licensed organisation, one comma-separated entry per case.
    pub async fn waiting_children_ages(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        let rows: Vec<Option<String>> = case::Entity::find()
            .select_only()
            .column(case::Column::ChildAges)
            .filter(case::Column::Kind.eq("child"))
            .filter(case::Column::Status.eq("active"))
            .filter(case::Column::Visibility.ne("draft"))
            .filter(case::Column::MarkedAt.is_null())
            .filter(case::Column::OrganisationId.in_subquery(licensed_organisations(now)))
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().flatten().collect())
    }
}

/// Selects the organisations whose licence is active at `now`.
fn licensed_organisations(now: DateTime<Utc>) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(organisation::Column::Id)
        .from(organisation::Entity)
        .cond_where(
            Condition::all()
                .add(
                    Condition::any()
                        .add(organisation::Column::LicenceStartsAt.is_null())
                        .add(organisation::Column::LicenceStartsAt.lte(now)),
                )
                .add(
                    Condition::any()
                        .add(organisation::Column::LicenceExpiresAt.is_null())
                        .add(organisation::Column::LicenceExpiresAt.gt(now)),
                ),
        )
        .to_owned()
}

/// The audit action of a profile view by a worker of another organisation.
pub const CASE_VIEWED_BY_OTHERS: &str = "case.viewed_by_other_organisation";

/// Returns a conflict unless `owner` has the case, and a stale error when
/// `read_version` is given and the case was changed since (its
/// `updated_at` differs). Locks the row on PostgreSQL until the caller's
/// transaction ends.
pub(crate) async fn require_owner(
    db: &impl sea_orm::ConnectionTrait,
    id: uuid::Uuid,
    owner: OrganisationId,
    read_version: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    let mut select = case::Entity::find_by_id(id);
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    // A case marked to go is not found, as on every route but retention's.
    let Some(row) = select.one(db).await?.filter(|row| row.marked_at.is_none()) else {
        return Err(StoreError::NotFound { what: "case" });
    };
    if row.organisation_id != owner.0 {
        return Err(StoreError::Conflict { what: "case owner" });
    }
    if read_version.is_some_and(|version| version != row.updated_at) {
        return Err(StoreError::Stale { what: "case" });
    }
    Ok(())
}

/// Sets a row's coded columns.
fn set_columns(row: &mut case::ActiveModel, columns: CaseColumns) {
    row.region = Set(columns.region);
    row.ethnicity = Set(columns.ethnicity);
    row.plan = Set(columns.plan);
    row.legal_status = Set(columns.legal_status);
    row.approved_for = Set(columns.approved_for);
    row.min_age = Set(columns.min_age);
    row.max_age = Set(columns.max_age);
    row.group_size = Set(columns.group_size);
    row.child_ages = Set(columns.child_ages);
    row.need_health = Set(columns.needs[0]);
    row.need_development = Set(columns.needs[1]);
    row.need_history = Set(columns.needs[2]);
}

/// Builds the condition of a search: visible to the viewer, owned by an
/// organisation whose licence is active, and matching every filter.
fn search_condition(query: &CaseQuery) -> Condition {
    let now = query.now.unwrap_or_else(Utc::now);
    let licensed = licensed_organisations(now);
    let mut condition = Condition::all()
        .add(case::Column::Kind.eq(query.kind))
        .add(case::Column::Status.eq("active"))
        .add(case::Column::MarkedAt.is_null())
        .add(case::Column::OrganisationId.in_subquery(licensed));
    if let Some(viewer) = query.viewer {
        let shared = Query::select()
            .column(case_share::Column::CaseId)
            .from(case_share::Entity)
            .and_where(case_share::Column::OrganisationId.eq(viewer.0))
            .to_owned();
        condition = condition.add(
            Condition::any()
                .add(
                    Condition::all()
                        .add(case::Column::OrganisationId.eq(viewer.0))
                        .add(case::Column::Visibility.ne("draft")),
                )
                .add(case::Column::Visibility.eq("all"))
                .add(
                    Condition::all()
                        .add(case::Column::Visibility.eq("named"))
                        .add(case::Column::Id.in_subquery(shared)),
                ),
        );
    }
    if let Some(age) = query.min_age {
        condition = condition.add(case::Column::MinAge.gte(age));
    }
    if let Some(age) = query.max_age {
        condition = condition.add(case::Column::MaxAge.lte(age));
    }
    if let Some(age) = query.offers_age {
        condition = condition
            .add(case::Column::MinAge.lte(age))
            .add(case::Column::MaxAge.gte(age));
    }
    if let Some(size) = query.min_group_size {
        condition = condition.add(case::Column::GroupSize.gte(size));
    }
    if let Some(size) = query.max_group_size {
        condition = condition.add(case::Column::GroupSize.lte(size));
    }
    if let Some(region) = &query.region {
        condition = condition.add(case::Column::Region.eq(region.as_str()));
    }
    if let Some(status) = &query.legal_status {
        condition = condition.add(case::Column::LegalStatus.eq(status.as_str()));
    }
    if let Some(plan) = &query.plan {
        // `approved_for` contains comma-separated codes. The `_` in a code is a
        // LIKE wildcard, but it can only match another stored code of the
        // same shape, and no two codes differ only where a code has `_`.
        condition = condition.add(
            Condition::any()
                .add(case::Column::Plan.eq(plan.as_str()))
                .add(case::Column::ApprovedFor.eq(plan.as_str()))
                .add(case::Column::ApprovedFor.like(format!("{plan},%")))
                .add(case::Column::ApprovedFor.like(format!("%,{plan}")))
                .add(case::Column::ApprovedFor.like(format!("%,{plan},%"))),
        );
    }
    let need_columns = [
        case::Column::NeedHealth,
        case::Column::NeedDevelopment,
        case::Column::NeedHistory,
    ];
    for (column, level) in need_columns.iter().zip(query.max_needs) {
        if let Some(level) = level {
            condition = condition.add(column.lte(level));
        }
    }
    for (column, level) in need_columns.iter().zip(query.min_needs) {
        if let Some(level) = level {
            condition = condition.add(column.gte(level));
        }
    }
    condition
}
