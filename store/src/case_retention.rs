//! Retention of family-finding cases: marking the cases due to go, the
//! organisation's requests, keeps and legal holds, and the final step that
//! replaces a case with an anonymous record.

use chrono::{DateTime, Utc};
use kinlink_core::case_retention::{
    AnonymousCase, CaseFacts, MarkReason, OrganisationTerms, enforce_k_anonymity, idle_cutoff,
};
use kinlink_core::{OrganisationId, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::entity::{
    anonymous_case, case, case_media, case_media_rendition, case_share, case_transfer, interest,
    organisation, worker_invitation,
};
use crate::{Store, StoreError};

/// A case the rule marks, with the reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DueCase {
    pub id: uuid::Uuid,
    pub reason: MarkReason,
}

/// The outcome of an organisation's request to erase a case.
#[derive(Clone, Debug, PartialEq)]
pub enum ErasureOutcome {
    /// The case is marked and goes 14 days from now.
    Marked(case::Model),
    /// The case is marked already.
    MarkedBefore(case::Model),
    /// The case is on legal hold, and stays.
    Held {
        reason: String,
        since: DateTime<Utc>,
    },
}

/// The rest of an anonymised case: the stored files to delete and the
/// discussions deleted with it.
#[derive(Clone, Debug, Default)]
pub struct Anonymised {
    pub blobs: Vec<uuid::Uuid>,
    pub discussions: Vec<uuid::Uuid>,
}

impl Store {
    /// Returns each organisation's id with the terms the case rule reads.
    async fn organisations_terms(
        &self,
    ) -> Result<Vec<(uuid::Uuid, OrganisationTerms)>, StoreError> {
        let rows: Vec<(uuid::Uuid, i32, Option<DateTime<Utc>>)> = organisation::Entity::find()
            .select_only()
            .column(organisation::Column::Id)
            .column(organisation::Column::RetentionDays)
            .column(organisation::Column::LicenceExpiresAt)
            .order_by_asc(organisation::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, retention_days, licence_expires_at)| {
                let terms = OrganisationTerms {
                    retention_days,
                    licence_expires_at,
                };
                (id, terms)
            })
            .collect())
    }

    /// Lists up to `limit` cases due to be marked at `now`, in id order
    /// within each organisation: not marked, and idle since their
    /// organisation's cut-off. Held cases are left out unless `held` is
    /// true, which lists only the held cases that would otherwise be due.
    pub async fn idle_cases(
        &self,
        now: DateTime<Utc>,
        held: bool,
        limit: Option<u64>,
    ) -> Result<Vec<DueCase>, StoreError> {
        let mut due = Vec::new();
        for (organisation, terms) in self.organisations_terms().await? {
            let remaining = limit.map(|limit| limit.saturating_sub(due.len() as u64));
            if remaining == Some(0) {
                break;
            }
            let (cutoff, reason) = idle_cutoff(terms, now);
            let ids = idle_ids(&self.db, organisation, cutoff, held, remaining).await?;
            due.extend(ids.into_iter().map(|id| DueCase { id, reason }));
        }
        Ok(due)
    }

    /// Marks up to `batch` cases due at `now`, one organisation at a time.
    /// The cut-off is part of each update, so a case that became active
    /// meanwhile stays. Returns the cases it marked.
    pub async fn mark_idle_cases(
        &self,
        now: DateTime<Utc>,
        batch: u64,
    ) -> Result<Vec<DueCase>, StoreError> {
        let mut marked = Vec::new();
        for (organisation, terms) in self.organisations_terms().await? {
            let remaining = batch.saturating_sub(marked.len() as u64);
            if remaining == 0 {
                break;
            }
            let (cutoff, reason) = idle_cutoff(terms, now);
            let ids = idle_ids(&self.db, organisation, cutoff, false, Some(remaining)).await?;
            if ids.is_empty() {
                continue;
            }
            let transaction = self.begin_write().await?;
            mark(&ids, reason, now)
                .filter(case::Column::LastActivityAt.lte(cutoff))
                .exec(&*transaction)
                .await?;
            let done: Vec<uuid::Uuid> = case::Entity::find()
                .select_only()
                .column(case::Column::Id)
                .filter(case::Column::Id.is_in(ids))
                .filter(case::Column::MarkedAt.eq(now))
                .filter(case::Column::MarkReason.eq(reason.as_str()))
                .order_by_asc(case::Column::Id)
                .into_tuple()
                .all(&*transaction)
                .await?;
            transaction.commit().await?;
            marked.extend(done.into_iter().map(|id| DueCase { id, reason }));
        }
        Ok(marked)
    }

    /// Lists up to `limit` cases marked at or before `marked_before` and
    /// not held, in id order: those due for the final step.
    pub async fn cases_marked_before(
        &self,
        marked_before: DateTime<Utc>,
        limit: Option<u64>,
    ) -> Result<Vec<uuid::Uuid>, StoreError> {
        let mut select = case::Entity::find()
            .select_only()
            .column(case::Column::Id)
            .filter(case::Column::MarkedAt.lte(marked_before))
            .filter(case::Column::HeldAt.is_null())
            .order_by_asc(case::Column::Id);
        if let Some(limit) = limit {
            select = select.limit(limit);
        }
        Ok(select.into_tuple().all(&self.db).await?)
    }

    /// Lists an organisation's marked cases, the earliest marked first.
    pub async fn marked_cases(
        &self,
        organisation: OrganisationId,
    ) -> Result<Vec<case::Model>, StoreError> {
        Ok(case::Entity::find()
            .filter(case::Column::OrganisationId.eq(organisation.0))
            .filter(case::Column::MarkedAt.is_not_null())
            .order_by_asc(case::Column::MarkedAt)
            .order_by_asc(case::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// Marks a case of `owner` at its organisation's request, unless it is
    /// on legal hold.
    pub async fn request_case_erasure(
        &self,
        id: uuid::Uuid,
        owner: OrganisationId,
        now: DateTime<Utc>,
    ) -> Result<ErasureOutcome, StoreError> {
        let transaction = self.begin_write().await?;
        let row = owned_case(&transaction, id, owner).await?;
        if let (Some(since), Some(reason)) = (row.held_at, row.hold_reason.clone()) {
            transaction.rollback().await?;
            return Ok(ErasureOutcome::Held { reason, since });
        }
        if row.marked_at.is_some() {
            transaction.rollback().await?;
            return Ok(ErasureOutcome::MarkedBefore(row));
        }
        mark(&[id], MarkReason::OrganisationRequest, now)
            .exec(&*transaction)
            .await?;
        let marked = case::Entity::find_by_id(id)
            .one(&*transaction)
            .await?
            .ok_or(StoreError::NotFound { what: "case" })?;
        transaction.commit().await?;
        Ok(ErasureOutcome::Marked(marked))
    }

    /// Lifts the mark of a case of `owner` and counts now as activity, so
    /// the rule starts counting again. Returns the reason of the mark it
    /// lifted, or `None` when the case was not marked.
    pub async fn keep_case(
        &self,
        id: uuid::Uuid,
        owner: OrganisationId,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError> {
        let transaction = self.begin_write().await?;
        let row = owned_case(&transaction, id, owner).await?;
        if row.marked_at.is_none() {
            transaction.rollback().await?;
            return Ok(None);
        }
        unmark(&*transaction, id, now).await?;
        transaction.commit().await?;
        Ok(Some(row.mark_reason.unwrap_or_default()))
    }

    /// Puts a case of `owner` on legal hold with a reason, lifting any
    /// mark: a held case is kept whole and visible until the hold ends.
    /// Returns whether it lifted a mark, or `None` when the case was held
    /// already (the first reason stays).
    pub async fn hold_case(
        &self,
        id: uuid::Uuid,
        owner: OrganisationId,
        by: UserId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<bool>, StoreError> {
        let transaction = self.begin_write().await?;
        let row = owned_case(&transaction, id, owner).await?;
        if row.held_at.is_some() {
            transaction.rollback().await?;
            return Ok(None);
        }
        if row.marked_at.is_some() {
            unmark(&*transaction, id, now).await?;
        }
        case::Entity::update_many()
            .col_expr(case::Column::HeldAt, Expr::value(now))
            .col_expr(case::Column::HeldBy, Expr::value(by.0))
            .col_expr(case::Column::HoldReason, Expr::value(reason))
            .filter(case::Column::Id.eq(id))
            .exec(&*transaction)
            .await?;
        transaction.commit().await?;
        Ok(Some(row.marked_at.is_some()))
    }

    /// Ends the legal hold of a case of `owner`, counting now as activity.
    /// Returns false when it was not held.
    pub async fn release_case_hold(
        &self,
        id: uuid::Uuid,
        owner: OrganisationId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let transaction = self.begin_write().await?;
        let row = owned_case(&transaction, id, owner).await?;
        if row.held_at.is_none() {
            transaction.rollback().await?;
            return Ok(false);
        }
        case::Entity::update_many()
            .col_expr(case::Column::HeldAt, Expr::value(None::<DateTime<Utc>>))
            .col_expr(case::Column::HeldBy, Expr::value(None::<uuid::Uuid>))
            .col_expr(case::Column::HoldReason, Expr::value(None::<String>))
            .col_expr(case::Column::LastActivityAt, Expr::value(now))
            .filter(case::Column::Id.eq(id))
            .exec(&*transaction)
            .await?;
        transaction.commit().await?;
        Ok(true)
    }

    /// Anonymises again a case that the deletion log records as anonymised
    /// at `at`, after a restore brought back a copy taken before. The copy
    /// may be unmarked or held, since the mark and the release of a hold
    /// came after it. Returns `None` when the case is not in the copy.
    pub async fn replay_case_anonymisation(
        &self,
        id: uuid::Uuid,
        at: DateTime<Utc>,
    ) -> Result<Option<Anonymised>, StoreError> {
        let found = case::Entity::update_many()
            .col_expr(case::Column::MarkedAt, Expr::value(Some(at)))
            .col_expr(
                case::Column::MarkReason,
                Expr::value("organisation_request"),
            )
            .col_expr(
                case::Column::HeldAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                case::Column::HeldBy,
                Expr::value(Option::<uuid::Uuid>::None),
            )
            .col_expr(
                case::Column::HoldReason,
                Expr::value(Option::<String>::None),
            )
            .filter(case::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        if found.rows_affected == 0 {
            return Ok(None);
        }
        self.anonymise_case(id, at).await
    }

    /// Replaces a case marked at or before `marked_before`, and not held,
    /// with an anonymous record, deleting everything else about it: its
    /// shares, transfers, media, family invitations, interests and their
    /// discussions. Returns `None` when the case was kept or held after
    /// all. All of it is one transaction, so a sweep stopped half way
    /// leaves the case whole.
    pub async fn anonymise_case(
        &self,
        id: uuid::Uuid,
        marked_before: DateTime<Utc>,
    ) -> Result<Option<Anonymised>, StoreError> {
        let transaction = self.begin_write().await?;
        let mut select = case::Entity::find_by_id(id);
        if transaction.get_database_backend() == sea_orm::DbBackend::Postgres {
            select = select.lock_exclusive();
        }
        let Some(row) = select.one(&*transaction).await? else {
            transaction.rollback().await?;
            return Ok(None);
        };
        let due = row.held_at.is_none() && row.marked_at.is_some_and(|at| at <= marked_before);
        if !due {
            transaction.rollback().await?;
            return Ok(None);
        }
        let record = AnonymousCase::of(CaseFacts {
            kind: &row.kind,
            status: &row.status,
            region: &row.region,
            last_activity_at: row.last_activity_at,
            child_ages: row.child_ages.as_deref(),
            group_size: row.group_size,
        });
        add_anonymous_record(&*transaction, record).await?;

        let mut removed = Anonymised::default();
        let interests = interest::Entity::find()
            .filter(
                sea_orm::Condition::any()
                    .add(interest::Column::ChildCaseId.eq(id))
                    .add(interest::Column::FamilyCaseId.eq(id)),
            )
            .all(&*transaction)
            .await?;
        interest::Entity::delete_many()
            .filter(interest::Column::Id.is_in(interests.iter().map(|row| row.id)))
            .exec(&*transaction)
            .await?;
        removed.discussions = interests.iter().map(|row| row.conversation_id).collect();
        removed.blobs =
            crate::erasure::delete_discussions(&*transaction, &removed.discussions).await?;

        let media: Vec<uuid::Uuid> = case_media::Entity::find()
            .select_only()
            .column(case_media::Column::Id)
            .filter(case_media::Column::CaseId.eq(id))
            .into_tuple()
            .all(&*transaction)
            .await?;
        let renditions: Vec<uuid::Uuid> = case_media_rendition::Entity::find()
            .select_only()
            .column(case_media_rendition::Column::Id)
            .filter(case_media_rendition::Column::MediaId.is_in(media.iter().copied()))
            .into_tuple()
            .all(&*transaction)
            .await?;
        case_media_rendition::Entity::delete_many()
            .filter(case_media_rendition::Column::MediaId.is_in(media.iter().copied()))
            .exec(&*transaction)
            .await?;
        case_media::Entity::delete_many()
            .filter(case_media::Column::CaseId.eq(id))
            .exec(&*transaction)
            .await?;
        removed.blobs.extend(renditions);
        removed.blobs.extend(media);

        case_share::Entity::delete_many()
            .filter(case_share::Column::CaseId.eq(id))
            .exec(&*transaction)
            .await?;
        case_transfer::Entity::delete_many()
            .filter(case_transfer::Column::CaseId.eq(id))
            .exec(&*transaction)
            .await?;
        worker_invitation::Entity::delete_many()
            .filter(worker_invitation::Column::CaseId.eq(id))
            .filter(worker_invitation::Column::AcceptedAt.is_null())
            .exec(&*transaction)
            .await?;
        worker_invitation::Entity::update_many()
            .col_expr(
                worker_invitation::Column::CaseId,
                Expr::value(None::<uuid::Uuid>),
            )
            .filter(worker_invitation::Column::CaseId.eq(id))
            .exec(&*transaction)
            .await?;
        case::Entity::delete_by_id(id).exec(&*transaction).await?;
        transaction.commit().await?;
        Ok(Some(removed))
    }

    /// Lists every anonymous record, for statistics and tests.
    pub async fn anonymous_cases(&self) -> Result<Vec<anonymous_case::Model>, StoreError> {
        Ok(anonymous_case::Entity::find()
            .order_by_asc(anonymous_case::Column::Id)
            .all(&self.db)
            .await?)
    }
}

/// Loads a case of `owner`, locking its row on PostgreSQL. A case of
/// another organisation is not found, like one that does not exist.
async fn owned_case(
    transaction: &crate::connect::WriteTransaction,
    id: uuid::Uuid,
    owner: OrganisationId,
) -> Result<case::Model, StoreError> {
    let mut select = case::Entity::find_by_id(id);
    if transaction.get_database_backend() == sea_orm::DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    match select.one(&**transaction).await? {
        Some(row) if row.organisation_id == owner.0 => Ok(row),
        _ => Err(StoreError::NotFound { what: "case" }),
    }
}

/// Lists up to `limit` unmarked cases of an organisation idle since
/// `cutoff`, in id order: the held ones when `held` is true, the others
/// when it is false.
async fn idle_ids(
    db: &impl ConnectionTrait,
    organisation: uuid::Uuid,
    cutoff: DateTime<Utc>,
    held: bool,
    limit: Option<u64>,
) -> Result<Vec<uuid::Uuid>, StoreError> {
    let hold = if held {
        case::Column::HeldAt.is_not_null()
    } else {
        case::Column::HeldAt.is_null()
    };
    let mut select = case::Entity::find()
        .select_only()
        .column(case::Column::Id)
        .filter(case::Column::OrganisationId.eq(organisation))
        .filter(case::Column::MarkedAt.is_null())
        .filter(hold)
        .filter(case::Column::LastActivityAt.lte(cutoff))
        .order_by_asc(case::Column::Id);
    if let Some(limit) = limit {
        select = select.limit(limit);
    }
    Ok(select.into_tuple().all(db).await?)
}

/// Builds the update that marks unmarked, unheld cases among `ids`.
fn mark(
    ids: &[uuid::Uuid],
    reason: MarkReason,
    now: DateTime<Utc>,
) -> sea_orm::UpdateMany<case::Entity> {
    case::Entity::update_many()
        .col_expr(case::Column::MarkedAt, Expr::value(now))
        .col_expr(case::Column::MarkReason, Expr::value(reason.as_str()))
        .filter(case::Column::Id.is_in(ids.iter().copied()))
        .filter(case::Column::MarkedAt.is_null())
        .filter(case::Column::HeldAt.is_null())
}

/// Lifts a case's mark and counts `now` as its latest activity.
async fn unmark(
    db: &impl ConnectionTrait,
    id: uuid::Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    case::Entity::update_many()
        .col_expr(case::Column::MarkedAt, Expr::value(None::<DateTime<Utc>>))
        .col_expr(case::Column::MarkReason, Expr::value(None::<String>))
        .col_expr(case::Column::LastActivityAt, Expr::value(now))
        .filter(case::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Adds an anonymous record, then coarsens every record whose combination
/// of kept fields is shared by fewer than five, so the table stays
/// k-anonymous after every insert.
// NOTE: records are added one case at a time and never regain a field. A
// record keeps fields only when four earlier ones kept the same
// combination, so the first records of a deployment keep none.
async fn add_anonymous_record(
    db: &impl ConnectionTrait,
    record: AnonymousCase,
) -> Result<(), StoreError> {
    let id = uuid::Uuid::new_v4();
    let rows = anonymous_case::Entity::find().all(db).await?;
    let mut ids: Vec<uuid::Uuid> = rows.iter().map(|row| row.id).collect();
    let mut records: Vec<AnonymousCase> = rows.into_iter().map(record_of).collect();
    ids.push(id);
    records.push(record);
    let changed = enforce_k_anonymity(&mut records);
    let new_index = records.len() - 1;
    anonymous_case::Entity::insert(row_of(id, &records[new_index]))
        .exec_without_returning(db)
        .await?;
    for index in changed.into_iter().filter(|index| *index != new_index) {
        anonymous_case::Entity::update(row_of(ids[index], &records[index]))
            .exec(db)
            .await?;
    }
    Ok(())
}

fn record_of(row: anonymous_case::Model) -> AnonymousCase {
    AnonymousCase {
        kind: row.kind,
        outcome: row.outcome,
        region: row.region,
        end_year: row.end_year,
        age_band: row.age_band,
        group_size: row.group_size,
    }
}

fn row_of(id: uuid::Uuid, record: &AnonymousCase) -> anonymous_case::ActiveModel {
    anonymous_case::ActiveModel {
        id: Set(id),
        kind: Set(record.kind.clone()),
        outcome: Set(record.outcome.clone()),
        region: Set(record.region.clone()),
        end_year: Set(record.end_year),
        age_band: Set(record.age_band.clone()),
        group_size: Set(record.group_size.clone()),
    }
}
