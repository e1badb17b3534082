//! Applying to the community, by email link or from a signed-in account,
//! the state of an application, the acceptable-use rules, and moderators
//! deciding applications by hand.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use kinlink_core::community::{
    MembershipState, RULES_VERSION, SHORT_TEXT_MAX_CHARS, check_display_name,
    check_membership_number, check_text, comparable_display_name,
};
use kinlink_core::crypto::token::Token;
use kinlink_core::notices::Template;
use kinlink_core::organisations::OrganisationKind;
use kinlink_core::permissions::{Action, Relationship, Role};
use kinlink_core::values::EmailAddress;
use kinlink_core::{OrganisationId, UserId};
use kinlink_store::StoreError;
use kinlink_store::community::NewCommunityMember;
use kinlink_store::entity::community_member;
use kinlink_store::invitations::InvitationProblem;
use kinlink_store::users::AccountStatus;
use serde::{Deserialize, Serialize};
use tracing::{info, instrument};

use crate::accounts::{AccountRequest, prepare_account};
use crate::auth::{self, SignedIn, session_cookie};
use crate::community::{Standing, audit, member_by_id, notify};
use crate::error::ApiError;
use crate::http::client_address;
use crate::letterbox::invalid;
use crate::routes::JsonBody;
use crate::state::AppState;

/// How long an application link works.
const LINK_HOURS: i64 = 24;
/// Most application emails one address gets in an hour.
const LINKS_PER_HOUR: u32 = 3;
/// Most application emails one client may ask for in an hour.
const LINKS_PER_CLIENT_HOUR: u32 = 20;

#[derive(Serialize)]
pub struct PartnerView {
    id: OrganisationId,
    name: String,
}

/// A person's membership of the community, as they see it.
#[derive(Serialize)]
pub struct MembershipView {
    state: &'static str,
    /// The member's community id, not their account's; none before they
    /// apply.
    user_id: Option<uuid::Uuid>,
    display_name: Option<String>,
    partner: Option<PartnerView>,
    membership_number: Option<String>,
    applied_at: Option<DateTime<Utc>>,
    decided_at: Option<DateTime<Utc>>,
    verified_how: Option<String>,
    reason: Option<String>,
    rules_accepted: bool,
    rules_version: i32,
    suspended_until: Option<DateTime<Utc>>,
    moderator: bool,
}

async fn partner_view(
    state: &AppState,
    id: Option<uuid::Uuid>,
) -> Result<Option<PartnerView>, ApiError> {
    let Some(id) = id else {
        return Ok(None);
    };
    match state.store.organisation(OrganisationId(id)).await {
        Ok(row) => Ok(Some(PartnerView {
            id: OrganisationId(row.id),
            name: row.name,
        })),
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

fn state_code(member: &community_member::Model) -> &'static str {
    MembershipState::parse(&member.state).map_or("applied", MembershipState::as_str)
}

async fn membership_view(
    state: &AppState,
    user: UserId,
    member: Option<community_member::Model>,
    moderator: Option<OrganisationId>,
) -> Result<MembershipView, ApiError> {
    let partner = partner_view(state, moderator.map(|id| id.0)).await?;
    let moderator = moderator.is_some();
    let Some(member) = member else {
        let display_name = if moderator {
            Some(state.store.user(user).await?.display_name)
        } else {
            None
        };
        return Ok(MembershipView {
            state: if moderator { "active" } else { "none" },
            user_id: None,
            display_name,
            partner,
            membership_number: None,
            applied_at: None,
            decided_at: None,
            verified_how: None,
            reason: None,
            rules_accepted: moderator,
            rules_version: RULES_VERSION,
            suspended_until: None,
            moderator,
        });
    };
    Ok(MembershipView {
        state: if moderator {
            "active"
        } else {
            state_code(&member)
        },
        user_id: Some(member.member_id),
        display_name: Some(member.display_name.clone()),
        partner: match partner {
            Some(partner) => Some(partner),
            None => partner_view(state, member.partner_id).await?,
        },
        membership_number: member.membership_number.clone(),
        applied_at: Some(member.applied_at),
        decided_at: member.decided_at,
        verified_how: member.verified_how.clone(),
        reason: member.decision_reason.clone(),
        rules_accepted: moderator || member.rules_version == Some(RULES_VERSION),
        rules_version: RULES_VERSION,
        suspended_until: member.suspended_until.filter(|until| *until > Utc::now()),
        moderator,
    })
}

/// Checks a named partner: an organisation of kind community partner.
async fn checked_partner(
    state: &AppState,
    partner: Option<uuid::Uuid>,
) -> Result<Option<uuid::Uuid>, ApiError> {
    let Some(id) = partner else {
        return Ok(None);
    };
    let known = match state.store.organisation(OrganisationId(id)).await {
        Ok(row) => row.kind == OrganisationKind::CommunityPartner.as_str(),
        Err(StoreError::NotFound { .. }) => false,
        Err(other) => return Err(other.into()),
    };
    if !known {
        return Err(invalid(
            "partner_id",
            format!("no community partner has the id {id}"),
        ));
    }
    Ok(Some(id))
}

/// The fields of an application, checked.
struct ApplicationFields {
    display_name: String,
    partner_id: Option<uuid::Uuid>,
    membership_number: Option<String>,
}

async fn checked_application(
    state: &AppState,
    display_name: &str,
    partner_id: Option<uuid::Uuid>,
    membership_number: Option<&str>,
) -> Result<ApplicationFields, ApiError> {
    let display_name = check_display_name(display_name)?;
    let partner_id = checked_partner(state, partner_id).await?;
    let membership_number = match membership_number.map(str::trim) {
        None | Some("") => None,
        Some(number) => {
            if partner_id.is_none() {
                return Err(invalid(
                    "membership_number",
                    "name the partner the number belongs to in partner_id",
                ));
            }
            Some(check_membership_number(number)?)
        }
    };
    Ok(ApplicationFields {
        display_name,
        partner_id,
        membership_number,
    })
}

fn new_member(user: UserId, fields: ApplicationFields, at: DateTime<Utc>) -> NewCommunityMember {
    NewCommunityMember {
        user_id: user,
        comparable_name: comparable_display_name(&fields.display_name),
        display_name: fields.display_name,
        partner_id: fields.partner_id,
        membership_number: fields.membership_number,
        at,
    }
}

fn name_taken(error: StoreError) -> ApiError {
    match error {
        StoreError::Conflict {
            what: "community display name",
        } => invalid(
            "display_name",
            "another member has this name, or one that reads the same; choose another",
        ),
        other => other.into(),
    }
}

/// Lists the community partners, for the application form.
#[instrument(skip_all)]
pub async fn partners(state: web::Data<AppState>) -> Result<web::Json<Vec<PartnerView>>, ApiError> {
    let rows = state.store.organisations().await?;
    Ok(web::Json(
        rows.into_iter()
            .filter(|row| row.kind == OrganisationKind::CommunityPartner.as_str())
            .map(|row| PartnerView {
                id: OrganisationId(row.id),
                name: row.name,
            })
            .collect(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailBody {
    email: String,
}

/// Sends an application link to an address. The answer is the same
/// whether or not the address has an account, and whether or not an
/// email went, so it does not reveal who is on KinLink.
#[instrument(skip_all)]
pub async fn apply_by_email(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: JsonBody<EmailBody>,
) -> Result<HttpResponse, ApiError> {
    let email = EmailAddress::parse(&body.email)?;
    let now = Utc::now();
    let hour = Duration::hours(1);
    // Each request is counted before anything is sent, so that parallel
    // requests cannot all pass the count. A client over its share is told
    // so; an address over its share is not, so that the answer stays the
    // same for every address.
    let client = format!(
        "community-link-client:{}",
        client_address(&request, &state.config.server.trusted_proxies)
    );
    state
        .store
        .record_sign_in_failure(&client, now, hour)
        .await?;
    if let Some((count, ends_at)) = state
        .store
        .sign_in_failure_window(&client, now, hour)
        .await?
        && count > LINKS_PER_CLIENT_HOUR
    {
        let wait_ms = (ends_at - now).num_milliseconds().max(0);
        return Err(ApiError::ApplicationsThrottled(
            ((wait_ms + 999) / 1000).max(1),
        ));
    }
    let subject = format!("community-link:{}", auth::account_subject(email.as_str()));
    state
        .store
        .record_sign_in_failure(&subject, now, hour)
        .await?;
    let sent = state
        .store
        .sign_in_failure_window(&subject, now, hour)
        .await?
        .map_or(0, |(count, _)| count);
    if sent <= LINKS_PER_HOUR {
        let exists = state
            .store
            .find_user_by_email(email.as_str())
            .await?
            .is_some();
        state
            .store
            .queue_community_link(
                email.as_str(),
                exists,
                now,
                now + Duration::hours(LINK_HOURS),
            )
            .await?;
    } else {
        info!("community application email not sent: the address had its hourly share");
    }
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "state": "check_email" })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    token: String,
    password: String,
    display_name: String,
    partner_id: Option<uuid::Uuid>,
    membership_number: Option<String>,
}

/// Creates a community-only account from an application link and signs
/// it in.
#[instrument(skip_all)]
pub async fn confirm(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: JsonBody<ConfirmBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let token =
        Token::parse(&body.token).ok_or(ApiError::CommunityLink(InvitationProblem::Unknown))?;
    let link = state
        .store
        .community_link(&token.hash())
        .await?
        .ok_or(ApiError::CommunityLink(InvitationProblem::Unknown))?;
    let now = Utc::now();
    if link.used_at.is_some() {
        return Err(ApiError::CommunityLink(InvitationProblem::Used));
    }
    if link.expires_at <= now {
        return Err(ApiError::CommunityLink(InvitationProblem::Expired));
    }
    let fields = checked_application(
        &state,
        &body.display_name,
        body.partner_id,
        body.membership_number.as_deref(),
    )
    .await?;
    if state.store.find_user_by_email(&link.email).await?.is_some() {
        return Err(ApiError::Conflict(
            "this address has an account already: sign in, then apply from the menu".to_owned(),
        ));
    }
    let (account, secrets) = prepare_account(
        &state.recovery_public_key,
        AccountRequest {
            email: &link.email,
            display_name: &fields.display_name,
            password: &body.password,
            status: AccountStatus::Active,
            organisation: None,
            role: Role::CommunityMember,
            invited_by: None,
            marketing_opt_in: false,
            totp_secret: None,
        },
    )
    .await?;
    let user = secrets.user_id;
    state
        .store
        .create_community_account(link.id, account, new_member(user, fields, now))
        .await
        .map_err(|error| match error {
            StoreError::Stale { .. } => ApiError::CommunityLink(InvitationProblem::Used),
            other => name_taken(other),
        })?;
    audit(
        &state,
        user,
        "community.applied",
        "user",
        user.0,
        serde_json::json!({ "with_link": true }),
    )
    .await?;
    // The link proved the address and the account was just made with this
    // password, so the session starts without a sign-in that a throttled
    // address would refuse after the account exists.
    let address = client_address(&request, &state.config.server.trusted_proxies);
    let token = auth::start_session(&state, &request, user, &secrets.private_key, address).await?;
    state.store.record_sign_in(user, Utc::now()).await?;
    let member = state.store.community_member(user).await?;
    let view = membership_view(&state, user, member, None).await?;
    Ok(HttpResponse::Created()
        .cookie(session_cookie(&state, token.to_text().to_string()))
        .json(view))
}

/// Shows where my membership stands.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn get(
    state: web::Data<AppState>,
    user: SignedIn,
) -> Result<web::Json<MembershipView>, ApiError> {
    let standing = Standing::of(&state, &user).await?;
    let moderator = standing.partners.first().copied();
    Ok(web::Json(
        membership_view(&state, user.user_id, standing.member, moderator).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyBody {
    display_name: String,
    partner_id: Option<uuid::Uuid>,
    membership_number: Option<String>,
}

/// Applies to the community from an account one has already.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn apply(
    state: web::Data<AppState>,
    user: SignedIn,
    body: JsonBody<ApplyBody>,
) -> Result<HttpResponse, ApiError> {
    if user.roles.contains(&Role::Moderator) {
        return Err(ApiError::Conflict(
            "a moderator is in the community already".to_owned(),
        ));
    }
    let fields = checked_application(
        &state,
        &body.display_name,
        body.partner_id,
        body.membership_number.as_deref(),
    )
    .await?;
    let now = Utc::now();
    let member = state
        .store
        .apply_to_community(new_member(user.user_id, fields, now))
        .await
        .map_err(|error| match error {
            StoreError::Conflict {
                what: "community application",
            } => ApiError::Conflict("you have applied already".to_owned()),
            other => name_taken(other),
        })?;
    audit(
        &state,
        user.user_id,
        "community.applied",
        "user",
        user.user_id.0,
        serde_json::json!({ "with_link": false }),
    )
    .await?;
    let view = membership_view(&state, user.user_id, Some(member), None).await?;
    Ok(HttpResponse::Created().json(view))
}

/// Gives the version of the rules to accept.
pub async fn rules() -> web::Json<serde_json::Value> {
    web::Json(serde_json::json!({ "version": RULES_VERSION }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesBody {
    version: i32,
}

/// Accepts the current rules.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn accept_rules(
    state: web::Data<AppState>,
    user: SignedIn,
    body: JsonBody<RulesBody>,
) -> Result<HttpResponse, ApiError> {
    let standing = Standing::of(&state, &user).await?;
    standing.require_inside()?;
    if body.version != RULES_VERSION {
        return Err(invalid(
            "version",
            format!(
                "version {} is not the current rules, version {RULES_VERSION}",
                body.version
            ),
        ));
    }
    if standing.member.is_none() {
        return Err(ApiError::CommunityNotMember);
    }
    state
        .store
        .accept_community_rules(user.user_id, RULES_VERSION, Utc::now())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A waiting application, for the moderators who may decide it.
#[derive(Serialize)]
pub struct ApplicationView {
    /// The applicant's community id.
    user_id: uuid::Uuid,
    display_name: String,
    email: String,
    partner: Option<PartnerView>,
    membership_number: Option<String>,
    applied_at: DateTime<Utc>,
    state: &'static str,
    list_match: bool,
}

/// Lists the applications I may decide, oldest first.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn applications(
    state: web::Data<AppState>,
    user: SignedIn,
) -> Result<web::Json<Vec<ApplicationView>>, ApiError> {
    let standing = Standing::of(&state, &user).await?;
    standing.require(Action::VerifyMembers, &[Relationship::PartnerModerator])?;
    let partners: Vec<uuid::Uuid> = standing.partners.iter().map(|id| id.0).collect();
    let mut views = Vec::new();
    for application in state.store.community_applications(&partners).await? {
        views.push(ApplicationView {
            user_id: application.member.member_id,
            state: state_code(&application.member),
            partner: partner_view(&state, application.member.partner_id).await?,
            display_name: application.member.display_name,
            email: application.email,
            membership_number: application.member.membership_number,
            applied_at: application.member.applied_at,
            list_match: application.list_match,
        });
    }
    Ok(web::Json(views))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    decision: String,
    reason: Option<String>,
}

/// Verifies or turns down one application.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn decide(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    body: JsonBody<DecisionBody>,
) -> Result<web::Json<MembershipView>, ApiError> {
    let standing = Standing::of(&state, &user).await?;
    standing.require_inside()?;
    let member = member_by_id(&state, &path).await?;
    let applicant = UserId(member.user_id);
    let relationships = match member.partner_id {
        None => vec![Relationship::PartnerModerator],
        Some(partner) if standing.partners.contains(&OrganisationId(partner)) => {
            vec![Relationship::PartnerModerator]
        }
        Some(_) => Vec::new(),
    };
    // An application the moderator may not decide is not theirs to know
    // of either.
    standing
        .require(Action::VerifyMembers, &relationships)
        .map_err(|_denied| ApiError::NotFound)?;
    let verify = match body.decision.as_str() {
        "verify" => true,
        "reject" => false,
        other => {
            return Err(invalid(
                "decision",
                format!("{other:?} is not verify or reject"),
            ));
        }
    };
    let reason = match (&body.reason, verify) {
        (Some(reason), _) => Some(check_text("reason", reason, SHORT_TEXT_MAX_CHARS)?),
        (None, true) => None,
        (None, false) => return Err(invalid("reason", "is required to turn an application down")),
    };
    let decided = state
        .store
        .decide_community_application(applicant, verify, reason, user.user_id, Utc::now())
        .await
        .map_err(|error| match error {
            StoreError::Conflict { .. } => ApiError::Conflict(format!(
                "the application is {} already",
                state_code(&member)
            )),
            other => other.into(),
        })?;
    audit(
        &state,
        user.user_id,
        if verify {
            "community.application_verified"
        } else {
            "community.application_rejected"
        },
        "user",
        applicant.0,
        serde_json::json!({}),
    )
    .await?;
    notify(&state, &[applicant], Template::CommunityDecision).await;
    Ok(web::Json(
        membership_view(&state, applicant, Some(decided), None).await?,
    ))
}
