//! Organisations: the platform operator's admin area (create, licence,
//! retention) and the directory workers pick named publications from.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use kinlink_core::OrganisationId;
use kinlink_core::licence::LicenceState;
use kinlink_core::organisations::{
    OPERATOR_KIND, OrganisationKind, check_licence_dates, check_name, check_retention_days,
    comparable_name, places_children,
};
use kinlink_core::permissions::{self, Action, Relationship};
use kinlink_store::entity::organisation;
use kinlink_store::organisations::{DEFAULT_RETENTION_DAYS, OrganisationTerms};
use serde::{Deserialize, Serialize};
use tracing::{info, instrument};

use super::JsonBody;
use crate::accounts::create_organisation_with;
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::family_finding::{licence_now, staff_workplace};
use crate::letterbox::invalid;
use crate::state::AppState;

/// An organisation as the admin area shows it.
#[derive(Serialize)]
pub struct OrganisationView {
    id: OrganisationId,
    name: String,
    kind: String,
    licence_starts_at: Option<DateTime<Utc>>,
    licence_expires_at: Option<DateTime<Utc>>,
    licence: LicenceState,
    retention_days: i32,
    families_edit_profiles: bool,
    /// Whether the organisation's own managers run it: it had a confirmed
    /// worker, so the operator may no longer invite or approve its first
    /// manager.
    founded: bool,
    created_at: DateTime<Utc>,
}

async fn view(state: &AppState, row: organisation::Model) -> Result<OrganisationView, ApiError> {
    let founded = super::workers::founded(state, OrganisationId(row.id)).await?;
    let licence = licence_now(&row, Utc::now());
    Ok(OrganisationView {
        id: OrganisationId(row.id),
        name: row.name,
        kind: row.kind,
        licence_starts_at: row.licence_starts_at,
        licence_expires_at: row.licence_expires_at,
        licence,
        retention_days: row.retention_days,
        families_edit_profiles: row.families_edit_profiles,
        founded,
        created_at: row.created_at,
    })
}

fn require_operator(user: &SignedIn) -> Result<(), ApiError> {
    permissions::check(
        &user.roles,
        Action::ManageOrganisations,
        &[Relationship::Platform],
    )
    .map_err(|_denied| ApiError::Forbidden)
}

/// Lists every placing organisation for the operator.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn admin_list(
    state: web::Data<AppState>,
    user: SignedIn,
) -> Result<web::Json<Vec<OrganisationView>>, ApiError> {
    require_operator(&user)?;
    let mut views = Vec::new();
    for row in state.store.organisations().await? {
        if row.kind != OPERATOR_KIND {
            views.push(view(&state, row).await?);
        }
    }
    Ok(web::Json(views))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TermsBody {
    name: String,
    licence_starts_at: Option<DateTime<Utc>>,
    licence_expires_at: Option<DateTime<Utc>>,
    retention_days: Option<i32>,
    #[serde(default)]
    families_edit_profiles: bool,
}

impl TermsBody {
    fn checked(self) -> Result<OrganisationTerms, ApiError> {
        let name = self.name.trim().to_owned();
        check_name(&name)?;
        check_licence_dates(self.licence_starts_at, self.licence_expires_at)?;
        let retention_days = self.retention_days.unwrap_or(DEFAULT_RETENTION_DAYS);
        check_retention_days(retention_days)?;
        Ok(OrganisationTerms {
            name,
            licence_starts_at: self.licence_starts_at,
            licence_expires_at: self.licence_expires_at,
            retention_days,
            families_edit_profiles: self.families_edit_profiles,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    kind: String,
    #[serde(flatten)]
    terms: TermsBody,
}

/// Creates an organisation. Its first manager is then invited by the
/// operator through the organisation's worker invitations.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn admin_create(
    state: web::Data<AppState>,
    user: SignedIn,
    body: JsonBody<CreateBody>,
) -> Result<HttpResponse, ApiError> {
    require_operator(&user)?;
    let body = body.into_inner();
    let kind = OrganisationKind::parse(&body.kind).ok_or_else(|| {
        invalid(
            "kind",
            "must be local_authority, voluntary_adoption_agency, independent_fostering_provider \
             or community_partner",
        )
    })?;
    let terms = body.terms.checked()?;
    require_unique_name(&state, &terms.name, None).await?;
    let (id, _pair) = create_organisation_with(&state.store, kind.as_str(), terms).await?;
    audit_terms(&state, &user, id, "organisation.created").await?;
    info!(organisation = %id, "organisation created");
    let row = state.store.organisation(id).await?;
    Ok(HttpResponse::Created().json(view(&state, row).await?))
}

/// Replaces an organisation's name, licence dates, retention period and
/// profile setting.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn admin_update(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    body: JsonBody<TermsBody>,
) -> Result<web::Json<OrganisationView>, ApiError> {
    require_operator(&user)?;
    let id: OrganisationId = super::parse_id(&path)?;
    let existing = state.store.organisation(id).await?;
    if existing.kind == OPERATOR_KIND {
        return Err(ApiError::NotFound);
    }
    let terms = body.into_inner().checked()?;
    require_unique_name(&state, &terms.name, Some(id)).await?;
    let row = state.store.set_organisation_terms(id, terms).await?;
    audit_terms(&state, &user, id, "organisation.terms_changed").await?;
    info!(organisation = %id, "organisation terms changed");
    Ok(web::Json(view(&state, row).await?))
}

/// Returns `400` naming `name` when another organisation has the same name
/// in the form `comparable_name` gives, so two organisations in a publication
/// list or a transfer cannot be mistaken for each other.
async fn require_unique_name(
    state: &AppState,
    name: &str,
    except: Option<OrganisationId>,
) -> Result<(), ApiError> {
    let key = comparable_name(name);
    let duplicate = state
        .store
        .organisation_names()
        .await?
        .into_iter()
        .any(|(id, other)| Some(id) != except && comparable_name(&other) == key);
    if duplicate {
        return Err(invalid("name", "another organisation has this name"));
    }
    Ok(())
}

async fn audit_terms(
    state: &AppState,
    user: &SignedIn,
    id: OrganisationId,
    action: &'static str,
) -> Result<(), ApiError> {
    let row = state.store.organisation(id).await?;
    state
        .store
        .audit(kinlink_store::audit::AuditRecord {
            actor_id: Some(user.user_id),
            organisation_id: Some(id),
            action,
            subject_kind: "organisation",
            subject_id: Some(id.0),
            detail: serde_json::json!({
                "licence_starts_at": row.licence_starts_at,
                "licence_expires_at": row.licence_expires_at,
                "retention_days": row.retention_days,
                "families_edit_profiles": row.families_edit_profiles,
            }),
            at: Utc::now(),
        })
        .await?;
    Ok(())
}

/// An organisation in the directory workers publish to.
#[derive(Serialize)]
pub struct DirectoryEntry {
    id: OrganisationId,
    name: String,
    kind: String,
}

/// Lists the organisations whose licence is active, for a worker choosing
/// who to publish a case to.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn directory(
    state: web::Data<AppState>,
    user: SignedIn,
) -> Result<web::Json<Vec<DirectoryEntry>>, ApiError> {
    let workplace = staff_workplace(&state, &user, Action::ReadCase).await?;
    let now = Utc::now();
    let rows = state.store.organisations().await?;
    Ok(web::Json(
        rows.into_iter()
            .filter(|row| places_children(&row.kind) && row.id != workplace.organisation.id)
            .filter(|row| licence_now(row, now).allows_changes())
            .map(|row| DirectoryEntry {
                id: OrganisationId(row.id),
                name: row.name,
                kind: row.kind,
            })
            .collect(),
    ))
}
