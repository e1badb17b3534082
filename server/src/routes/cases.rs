//! Child and family cases: create, read, edit and publish.

use std::collections::BTreeSet;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use kinlink_core::OrganisationId;
use kinlink_core::organisations::places_children;
use kinlink_core::permissions::Action;
use kinlink_core::profiles::CaseKind;
use kinlink_store::cases::{CASE_VIEWED_BY_OTHERS, NewCase, Publication};
use kinlink_store::entity::case;
use serde::{Deserialize, Serialize};
use tracing::{info, instrument};

use super::{JsonBody, case_media, family_accounts};
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::family_finding::{
    CaseAccess, Profile, audit_case, case_access, open_profile, seal_profile, staff_workplace,
};
use crate::letterbox::invalid;
use crate::state::AppState;

/// Most organisations a case can be published to by name.
const MAX_NAMED_ORGANISATIONS: usize = 100;

/// An organisation as a case names it.
#[derive(Serialize)]
pub struct OrganisationRef {
    id: OrganisationId,
    name: String,
}

impl OrganisationRef {
    /// Names an organisation.
    pub fn new(id: OrganisationId, name: String) -> Self {
        Self { id, name }
    }
}

/// A case as its reader sees it.
#[derive(Serialize)]
pub struct CaseView {
    id: uuid::Uuid,
    organisation: OrganisationRef,
    /// Whether the reader works for the case's organisation.
    own: bool,
    visibility: String,
    /// The organisations a case is published to by name. Only its own
    /// organisation gets the list.
    #[serde(skip_serializing_if = "Option::is_none")]
    shared_with: Option<Vec<OrganisationRef>>,
    anonymous: bool,
    /// Whether names were left out because the profile is anonymous.
    names_hidden: bool,
    /// Whether the reader may change the profile and its photos now.
    may_edit: bool,
    status: String,
    #[serde(flatten)]
    profile: Profile,
    /// Photos and the video, left out with the names of an anonymous
    /// profile. Other organisations see only the items that are ready.
    media: Vec<case_media::MediaView>,
    /// For the workers of a family case's organisation: whether the family
    /// keeps its own profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    family_account: Option<family_accounts::FamilyAccount>,
    /// For the workers of the case's organisation: the legal hold that
    /// keeps the case, if there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    legal_hold: Option<super::case_retention::LegalHold>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// A line in a list of cases.
#[derive(Serialize)]
pub struct CaseSummary {
    /// Whether the details are left out because the reader's organisation
    /// may no longer see the case, as after an interest in it ended.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub withheld: bool,
    pub id: uuid::Uuid,
    pub kind: String,
    pub organisation: OrganisationRef,
    pub own: bool,
    pub visibility: String,
    pub anonymous: bool,
    pub status: String,
    /// The children's first names or the household's name; empty when the
    /// profile is anonymous to the reader and no discussion has started.
    pub title: String,
    pub region: String,
    pub min_age: i16,
    pub max_age: i16,
    pub group_size: i16,
    pub updated_at: DateTime<Utc>,
}

/// Leaves names out of a profile.
fn hide_names(profile: &mut Profile) {
    match profile {
        Profile::Child(child) => {
            for one in &mut child.children {
                one.first_name.clear();
            }
        }
        Profile::Family(family) => family.household_name.clear(),
    }
}

fn title(profile: &Profile) -> String {
    match profile {
        Profile::Child(child) => child
            .children
            .iter()
            .map(|one| one.first_name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        Profile::Family(family) => family.household_name.clone(),
    }
}

async fn organisation_ref(
    state: &AppState,
    id: OrganisationId,
) -> Result<OrganisationRef, ApiError> {
    let organisation = state.store.organisation(id).await?;
    Ok(OrganisationRef {
        id,
        name: organisation.name,
    })
}

/// Builds the summary of a case for a reader from `reader_organisation`.
pub async fn summary(
    state: &AppState,
    row: &case::Model,
    reader_organisation: OrganisationId,
) -> Result<CaseSummary, ApiError> {
    let own = row.organisation_id == reader_organisation.0;
    let profile = open_profile(&state.profile_key, row)?;
    let names_hidden =
        row.anonymous && !own && !discussed_with(state, row, reader_organisation).await?;
    Ok(CaseSummary {
        withheld: false,
        id: row.id,
        kind: row.kind.clone(),
        organisation: organisation_ref(state, OrganisationId(row.organisation_id)).await?,
        own,
        visibility: row.visibility.clone(),
        anonymous: row.anonymous,
        status: row.status.clone(),
        title: if names_hidden {
            String::new()
        } else {
            title(&profile)
        },
        region: row.region.clone(),
        min_age: row.min_age,
        max_age: row.max_age,
        group_size: row.group_size,
        updated_at: row.updated_at,
    })
}

/// Returns whether a discussion about the case involves `organisation`,
/// which lifts an anonymous profile's anonymity for it.
async fn discussed_with(
    state: &AppState,
    row: &case::Model,
    organisation: OrganisationId,
) -> Result<bool, ApiError> {
    let is_child = row.kind == CaseKind::Child.as_str();
    Ok(state
        .store
        .discussed_with(row.id, is_child, organisation)
        .await?)
}

/// Builds the summary of a case that the reader's organisation may no
/// longer see: its id, kind and organisation only.
pub async fn withheld_summary(
    state: &AppState,
    row: &case::Model,
) -> Result<CaseSummary, ApiError> {
    Ok(CaseSummary {
        withheld: true,
        id: row.id,
        kind: row.kind.clone(),
        organisation: organisation_ref(state, OrganisationId(row.organisation_id)).await?,
        own: false,
        visibility: String::new(),
        anonymous: row.anonymous,
        status: row.status.clone(),
        title: String::new(),
        region: String::new(),
        min_age: 0,
        max_age: 0,
        group_size: 0,
        updated_at: row.updated_at,
    })
}

/// Returns whether an anonymous profile hides its names, photos and video
/// from the caller: they are not of its organisation or family, and no
/// discussion about it involves them yet.
pub async fn names_hidden(state: &AppState, access: &CaseAccess) -> Result<bool, ApiError> {
    use kinlink_core::permissions::Relationship;
    let row = &access.case;
    if !row.anonymous
        || access.owns()
        || access.relationships.contains(&Relationship::CaseFamily)
        || access
            .relationships
            .contains(&Relationship::DiscussionParty)
    {
        return Ok(false);
    }
    Ok(match &access.workplace {
        Some(workplace) => !discussed_with(state, row, workplace.id()).await?,
        None => true,
    })
}

/// Returns `403` when the caller edits as the case's family and the
/// organisation does not let families edit their own profiles.
pub async fn require_family_may_edit(
    state: &AppState,
    access: &CaseAccess,
) -> Result<(), ApiError> {
    if access.relationships == [kinlink_core::permissions::Relationship::CaseFamily] {
        let owner = state
            .store
            .organisation(OrganisationId(access.case.organisation_id))
            .await?;
        if !owner.families_edit_profiles {
            return Err(ApiError::Forbidden);
        }
    }
    Ok(())
}

/// Returns `400` naming the field when a family changes what its
/// organisation records about its approval.
fn keeps_approval(
    state: &AppState,
    access: &CaseAccess,
    profile: &Profile,
) -> Result<(), ApiError> {
    let (Profile::Family(stored), Profile::Family(sent)) =
        (open_profile(&state.profile_key, &access.case)?, profile)
    else {
        return Ok(());
    };
    let field = if stored.approved_for != sent.approved_for {
        "approved_for"
    } else if stored.approval_date != sent.approval_date {
        "approval_date"
    } else {
        return Ok(());
    };
    Err(invalid(
        field,
        "the approval is recorded by the family's organisation and stays as it is",
    ))
}

/// Returns whether the caller may change the case's profile and photos
/// now: they hold the right, their organisation's licence allows changes,
/// and a family's organisation lets families edit their profiles.
async fn may_edit(
    state: &AppState,
    user: &SignedIn,
    access: &CaseAccess,
) -> Result<bool, ApiError> {
    if access.require(user, Action::EditCase).is_err() {
        return Ok(false);
    }
    match require_family_may_edit(state, access).await {
        Ok(()) => Ok(true),
        Err(ApiError::Forbidden) => Ok(false),
        Err(other) => Err(other),
    }
}

async fn view(
    state: &AppState,
    user: &SignedIn,
    access: &CaseAccess,
) -> Result<CaseView, ApiError> {
    let row = &access.case;
    let own = access.owns();
    let mut profile = open_profile(&state.profile_key, row)?;
    let names_hidden = names_hidden(state, access).await?;
    if names_hidden {
        hide_names(&mut profile);
    }
    let media = if names_hidden {
        Vec::new()
    } else {
        case_media::views(state, row.id, case_media::sees_progress(access)).await?
    };
    let shared_with = if own {
        let mut named = Vec::new();
        for organisation in state.store.case_shares(row.id).await? {
            named.push(organisation_ref(state, organisation).await?);
        }
        Some(named)
    } else {
        None
    };
    Ok(CaseView {
        id: row.id,
        organisation: organisation_ref(state, OrganisationId(row.organisation_id)).await?,
        own,
        visibility: row.visibility.clone(),
        shared_with,
        anonymous: row.anonymous,
        names_hidden,
        may_edit: may_edit(state, user, access).await?,
        status: row.status.clone(),
        profile,
        media,
        family_account: if own && row.kind == CaseKind::Family.as_str() {
            Some(family_accounts::family_account(state, row).await?)
        } else {
            None
        },
        legal_hold: if own {
            super::case_retention::LegalHold::of(row)
        } else {
            None
        },
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Creates a child or family case in the caller's organisation, as a draft.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn create(
    state: web::Data<AppState>,
    user: SignedIn,
    body: JsonBody<Profile>,
) -> Result<HttpResponse, ApiError> {
    let workplace = staff_workplace(&state, &user, Action::CreateCase).await?;
    let profile = body.into_inner();
    let now = Utc::now();
    let columns = profile.columns(now.date_naive())?;
    let id = uuid::Uuid::now_v7();
    let sealed_profile = seal_profile(&state.profile_key, id, &profile)?;
    let row = state
        .store
        .create_case(NewCase {
            id,
            kind: profile.kind().as_str(),
            organisation_id: workplace.id(),
            created_by: user.user_id,
            columns,
            sealed_profile,
            at: now,
        })
        .await?;
    audit_case(
        &state,
        user.user_id,
        &row,
        "case.created",
        serde_json::json!({ "kind": row.kind }),
    )
    .await?;
    info!(case = %id, kind = %row.kind, "case created");
    let access = case_access(&state, &user, id).await?;
    Ok(HttpResponse::Created().json(view(&state, &user, &access).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    kind: Option<String>,
}

/// Lists the caller's organisation's own cases, most recently active first.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn list(
    state: web::Data<AppState>,
    user: SignedIn,
    query: web::Query<ListQuery>,
) -> Result<web::Json<Vec<CaseSummary>>, ApiError> {
    if user
        .roles
        .contains(&kinlink_core::permissions::Role::Adopter)
        && !user.roles.iter().any(|role| role.is_worker())
    {
        // A family gets the profiles it keeps.
        let mut summaries = Vec::new();
        for row in state.store.family_cases_of(user.user_id).await? {
            let mut line = summary(&state, &row, OrganisationId(row.organisation_id)).await?;
            // The family does not work for the organisation.
            line.own = false;
            summaries.push(line);
        }
        return Ok(web::Json(summaries));
    }
    let workplace = staff_workplace(&state, &user, Action::ReadCase).await?;
    let kind = match query.kind.as_deref() {
        None => CaseKind::Child,
        Some(code) => {
            CaseKind::parse(code).ok_or_else(|| invalid("kind", "must be child or family"))?
        }
    };
    let mut summaries = Vec::new();
    for row in state
        .store
        .organisation_cases(workplace.id(), kind.as_str())
        .await?
    {
        summaries.push(summary(&state, &row, workplace.id()).await?);
    }
    Ok(web::Json(summaries))
}

/// Reads a case, and records the view in the owning organisation's trail.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn get(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: uuid::Uuid = super::parse_id(&path)?;
    let access = case_access(&state, &user, id).await?;
    access.require(&user, Action::ReadCase)?;
    let case_view = view(&state, &user, &access).await?;
    let (action, detail) = match &access.workplace {
        Some(workplace) if !access.owns() => (
            CASE_VIEWED_BY_OTHERS,
            serde_json::json!({ "viewer_organisation": workplace.id() }),
        ),
        _ => ("case.viewed", serde_json::json!({})),
    };
    audit_case(&state, user.user_id, &access.case, action, detail).await?;
    Ok(with_version(&access.case).json(case_view))
}

/// Starts a `200` response whose `ETag` is the case's version, its
/// `updated_at`, for the client to send back in `If-Match`.
fn with_version(row: &case::Model) -> actix_web::HttpResponseBuilder {
    let version = row
        .updated_at
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    let mut response = HttpResponse::Ok();
    response.insert_header((actix_web::http::header::ETAG, format!("\"{version}\"")));
    response
}

/// Reads the version a change is based on from `If-Match`: the `updated_at`
/// of the case as the client read it, in quotes. Without the header the
/// change applies to whatever is stored.
fn read_version(request: &HttpRequest) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(header) = request.headers().get(actix_web::http::header::IF_MATCH) else {
        return Ok(None);
    };
    let text = header
        .to_str()
        .ok()
        .map(|value| value.trim().trim_matches('"'))
        .unwrap_or_default();
    DateTime::parse_from_rfc3339(text)
        .map(|version| Some(version.with_timezone(&Utc)))
        .map_err(|_invalid| {
            invalid(
                "If-Match",
                "must be the case's updated_at from when it was read, in quotes",
            )
        })
}

/// Replaces a case's profile. The body names the same kind as the case.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn update(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    request: HttpRequest,
    body: JsonBody<Profile>,
) -> Result<HttpResponse, ApiError> {
    let id: uuid::Uuid = super::parse_id(&path)?;
    let version = read_version(&request)?;
    let access = case_access(&state, &user, id).await?;
    access.require(&user, Action::EditCase)?;
    require_family_may_edit(&state, &access).await?;
    let profile = body.into_inner();
    if version.is_some_and(|version| version != access.case.updated_at) {
        return Err(ApiError::PreconditionFailed);
    }
    let version = if access.owns() {
        version
    } else {
        // The approval is checked against the case as read here, so the
        // change applies only to that version: a worker's change to the
        // approval in between makes it 412 rather than undoing it.
        keeps_approval(&state, &access, &profile)?;
        Some(access.case.updated_at)
    };
    if profile.kind().as_str() != access.case.kind {
        return Err(invalid(
            "kind",
            format!("this case is a {} case", access.case.kind),
        ));
    }
    let now = Utc::now();
    let columns = profile.columns(now.date_naive())?;
    let sealed = seal_profile(&state.profile_key, id, &profile)?;
    let row = state
        .store
        .update_case(
            id,
            OrganisationId(access.case.organisation_id),
            version,
            columns,
            sealed,
            now,
        )
        .await?;
    audit_case(
        &state,
        user.user_id,
        &row,
        "case.edited",
        serde_json::json!({}),
    )
    .await?;
    info!(case = %id, "case edited");
    let access = case_access(&state, &user, id).await?;
    Ok(with_version(&access.case).json(view(&state, &user, &access).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicationBody {
    visibility: String,
    organisations: Option<Vec<String>>,
    anonymous: bool,
}

/// Checks a publication request against the organisations that exist.
async fn publication(
    state: &AppState,
    body: &PublicationBody,
    owner: OrganisationId,
) -> Result<Publication, ApiError> {
    let named = match (body.visibility.as_str(), &body.organisations) {
        ("draft", None) => return Ok(Publication::Draft),
        ("all", None) => return Ok(Publication::All),
        ("draft" | "all", Some(_)) => {
            return Err(invalid(
                "organisations",
                "may only be given with visibility named",
            ));
        }
        ("named", None) => {
            return Err(invalid(
                "organisations",
                "is required with visibility named",
            ));
        }
        ("named", Some(list)) => list,
        _ => return Err(invalid("visibility", "must be draft, all or named")),
    };
    if named.is_empty() {
        return Err(invalid(
            "organisations",
            "must name at least one organisation",
        ));
    }
    if named.len() > MAX_NAMED_ORGANISATIONS {
        return Err(invalid(
            "organisations",
            format!(
                "{} is over the limit of {MAX_NAMED_ORGANISATIONS}",
                named.len()
            ),
        ));
    }
    let mut ids = BTreeSet::new();
    for text in named {
        let id: OrganisationId = text.parse().map_err(|_not_an_id| {
            invalid(
                "organisations",
                format!("{text:?} is not an organisation id"),
            )
        })?;
        if id == owner {
            return Err(invalid(
                "organisations",
                "must not name the case's own organisation",
            ));
        }
        let known = match state.store.organisation(id).await {
            Ok(organisation) => places_children(&organisation.kind),
            Err(kinlink_store::StoreError::NotFound { .. }) => false,
            Err(other) => return Err(other.into()),
        };
        if !known {
            return Err(invalid(
                "organisations",
                format!("no organisation has the id {id}"),
            ));
        }
        if !ids.insert(id) {
            return Err(invalid("organisations", format!("names {id} twice")));
        }
    }
    Ok(Publication::Named(ids.into_iter().collect()))
}

/// Sets who a case is published to and whether it is anonymous.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn publish(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    request: HttpRequest,
    body: JsonBody<PublicationBody>,
) -> Result<HttpResponse, ApiError> {
    let id: uuid::Uuid = super::parse_id(&path)?;
    let version = read_version(&request)?;
    let access = case_access(&state, &user, id).await?;
    access.require(&user, Action::PublishCase)?;
    let owner = OrganisationId(access.case.organisation_id);
    let publication = publication(&state, &body, owner).await?;
    let row = state
        .store
        .publish_case(id, owner, version, &publication, body.anonymous, Utc::now())
        .await?;
    let named = match &publication {
        Publication::Named(list) => list.len(),
        _ => 0,
    };
    audit_case(
        &state,
        user.user_id,
        &row,
        "case.published",
        serde_json::json!({
            "visibility": row.visibility,
            "named_organisations": named,
            "anonymous": row.anonymous,
        }),
    )
    .await?;
    info!(case = %id, visibility = %row.visibility, "case publication set");
    let access = case_access(&state, &user, id).await?;
    Ok(with_version(&access.case).json(view(&state, &user, &access).await?))
}
