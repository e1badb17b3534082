//! The audit trail: append-only, read by the owning organisation.

use chrono::{DateTime, Utc};
use kinlink_core::{AuditEventId, OrganisationId, UserId};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::entity::audit_event;
use crate::{Store, StoreError};

/// One audited event. `detail` must hold no content and no secret.
pub struct AuditRecord {
    pub actor_id: Option<UserId>,
    pub organisation_id: Option<OrganisationId>,
    pub action: &'static str,
    pub subject_kind: &'static str,
    pub subject_id: Option<uuid::Uuid>,
    pub detail: serde_json::Value,
    pub at: DateTime<Utc>,
}

impl Store {
    /// Appends an event to the trail.
    pub async fn audit(&self, record: AuditRecord) -> Result<(), StoreError> {
        let row = audit_event::ActiveModel {
            id: Set(AuditEventId::new().0),
            occurred_at: Set(record.at),
            actor_id: Set(record.actor_id.map(|id| id.0)),
            organisation_id: Set(record.organisation_id.map(|id| id.0)),
            action: Set(record.action.to_owned()),
            subject_kind: Set(record.subject_kind.to_owned()),
            subject_id: Set(record.subject_id),
            detail: Set(record.detail),
        };
        audit_event::Entity::insert(row)
            .exec_without_returning(&self.db)
            .await?;
        Ok(())
    }

    /// Lists events with a given action, oldest first.
    pub async fn audit_events_with_action(
        &self,
        action: &str,
    ) -> Result<Vec<audit_event::Model>, StoreError> {
        Ok(audit_event::Entity::find()
            .filter(audit_event::Column::Action.eq(action))
            .order_by_asc(audit_event::Column::OccurredAt)
            .all(&self.db)
            .await?)
    }
}
