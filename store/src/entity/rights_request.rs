//! The `rights_requests` table: requests about the rights of the people
//! in the data, and how each ended.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "rights_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The organisation that handles it. None for the platform's operator,
    /// who handles people with no organisation.
    pub organisation_id: Option<Uuid>,
    /// The account of the person the request is about, if they have one.
    pub subject_user_id: Option<Uuid>,
    /// The name and contact of a person without an account, sealed under
    /// the platform data key.
    pub sealed_subject: Option<Vec<u8>>,
    /// `access`, `correction`, `erasure`, `restriction` or `marketing`.
    pub kind: String,
    /// `received`, `in_progress`, `completed` or `refused`.
    pub state: String,
    /// The request's details, sealed under the platform data key.
    pub sealed_details: Option<Vec<u8>>,
    /// The person who asked, or the worker who recorded it for them.
    pub recorded_by: Uuid,
    pub received_at: DateTimeUtc,
    pub due_on: Date,
    pub closed_at: Option<DateTimeUtc>,
    pub closed_by: Option<Uuid>,
    /// The legal reason of a refusal.
    pub reason: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
