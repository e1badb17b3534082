//! The one place where failures become HTTP responses: 4xx with a stable
//! code and a message naming the field or value, 5xx with an opaque body
//! and the whole cause chain in the log.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// An HTTP-facing failure.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A body or query string that does not fit the endpoint, with the
    /// top-level field at fault when there is one.
    #[error("invalid JSON body: {message}")]
    InvalidJson {
        message: String,
        field: Option<String>,
    },
    #[error("{0}")]
    InvalidField(#[from] kinlink_core::values::InvalidValue),
    #[error("state-changing request from another origin")]
    OriginRejected,
    #[error("sign in first")]
    AuthRequired,
    #[error("the email or password is wrong")]
    InvalidCredentials,
    #[error("a second factor is required")]
    SecondFactorRequired,
    #[error("the second factor is wrong")]
    SecondFactorInvalid,
    #[error("the organisation has not confirmed this account yet")]
    AccountPending,
    #[error("the account is disabled")]
    AccountDisabled,
    #[error("too many failed sign-ins; try again later")]
    Throttled { retry_after_seconds: i64 },
    #[error("not permitted")]
    Forbidden,
    #[error(
        "the organisation's licence has expired: for three months it can read, not create or change"
    )]
    ReadOnly,
    #[error("the organisation's licence has not started or has ended")]
    LicenceInactive,
    #[error("unknown query parameter `{0}`")]
    UnknownParameter(String),
    #[error("this changed since you loaded it; reload it, then make your change again")]
    PreconditionFailed,
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("{}", invitation_message(*.0))]
    Invitation(kinlink_store::invitations::InvitationProblem),
    #[error("{}", community_link_message(*.0))]
    CommunityLink(kinlink_store::invitations::InvitationProblem),
    #[error("{}", recovery_link_message(*.0))]
    RecoveryLink(kinlink_store::invitations::InvitationProblem),
    /// A key recovery step rejected by the rule that one admin alone cannot
    /// recover an account.
    #[error("{0}")]
    RecoveryRejected(String),
    #[error("{}", unsubscribe_message(*.0))]
    Unsubscribe(kinlink_store::marketing::Unsubscribed),
    #[error("join the community, and wait for a moderator to verify you, first")]
    CommunityNotMember,
    #[error("accept the community's rules (version {0}) before your first post")]
    RulesNotAccepted(i32),
    #[error("you are suspended from posting until {}", .0.format("%Y-%m-%d %H:%M UTC"))]
    Suspended(chrono::DateTime<chrono::Utc>),
    #[error(
        "you have written {0} posts in the last minute, the most there may be; post again in {1} seconds"
    )]
    PostingThrottled(u64, i64),
    #[error(
        "too many application emails were asked for from this address; try again in {0} seconds"
    )]
    ApplicationsThrottled(i64),
    /// An erasure refused because the case is on legal hold.
    #[error(
        "this case is on legal hold since {}: {reason}; a manager must lift the hold before it can be erased",
        .since.format("%Y-%m-%d")
    )]
    LegalHold {
        reason: String,
        since: chrono::DateTime<chrono::Utc>,
    },
    #[error("media processing is busy; send the request again after the Retry-After seconds")]
    Busy { retry_after_seconds: i64 },
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

use kinlink_store::invitations::InvitationProblem;
use kinlink_store::marketing::Unsubscribed;

fn unsubscribe_message(outcome: Unsubscribed) -> &'static str {
    match outcome {
        Unsubscribed::Expired => {
            "this unsubscribe link has expired; turn news off in your notification settings"
        }
        _ => "this unsubscribe link is not known",
    }
}

fn community_link_message(problem: InvitationProblem) -> &'static str {
    match problem {
        InvitationProblem::Unknown => "this link is not known: it may be mistyped or cut short",
        InvitationProblem::Used => "this link was used already: sign in instead",
        InvitationProblem::Expired => {
            "this link has expired: it worked for 24 hours; ask for a new one"
        }
    }
}

fn recovery_link_message(problem: InvitationProblem) -> &'static str {
    match problem {
        InvitationProblem::Unknown => {
            "this recovery link is not known: it may be mistyped, or a newer email replaced it"
        }
        InvitationProblem::Used => "this recovery link was used already: sign in instead",
        InvitationProblem::Expired => {
            "this recovery link has expired: it worked for 24 hours; ask your organisation again"
        }
    }
}

fn invitation_message(problem: InvitationProblem) -> &'static str {
    match problem {
        InvitationProblem::Unknown => {
            "this invitation link is not known: it may be mistyped, or a newer invitation email replaced it"
        }
        InvitationProblem::Used => "this invitation link was used already",
        InvitationProblem::Expired => "this invitation link has expired: it worked for seven days",
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    /// Returns the stable code the browser's catalogue is keyed by.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidJson { .. } => "request.invalid_json",
            ApiError::InvalidField(_) => "request.invalid_field",
            ApiError::OriginRejected => "request.origin_rejected",
            ApiError::AuthRequired => "auth.required",
            ApiError::InvalidCredentials => "auth.invalid_credentials",
            ApiError::SecondFactorRequired => "auth.second_factor_required",
            ApiError::SecondFactorInvalid => "auth.second_factor_invalid",
            ApiError::AccountPending => "auth.account_pending",
            ApiError::AccountDisabled => "auth.account_disabled",
            ApiError::Throttled { .. } => "auth.throttled",
            ApiError::Forbidden => "request.forbidden",
            ApiError::ReadOnly => "organisation.read_only",
            ApiError::LicenceInactive => "organisation.licence_inactive",
            ApiError::UnknownParameter(_) => "request.invalid_query",
            ApiError::PreconditionFailed => "resource.changed",
            ApiError::NotFound => "resource.not_found",
            ApiError::Conflict(_) => "resource.conflict",
            ApiError::LegalHold { .. } => "case.legal_hold",
            ApiError::Invitation(InvitationProblem::Unknown) => "invitation.unknown",
            ApiError::Invitation(InvitationProblem::Used) => "invitation.used",
            ApiError::Invitation(InvitationProblem::Expired) => "invitation.expired",
            ApiError::CommunityLink(InvitationProblem::Unknown) => "invitation.unknown",
            ApiError::CommunityLink(InvitationProblem::Used) => "invitation.used",
            ApiError::CommunityLink(InvitationProblem::Expired) => "invitation.expired",
            ApiError::RecoveryLink(InvitationProblem::Unknown) => "recovery.unknown",
            ApiError::RecoveryLink(InvitationProblem::Used) => "recovery.used",
            ApiError::RecoveryLink(InvitationProblem::Expired) => "recovery.expired",
            ApiError::RecoveryRejected(_) => "recovery.rejected",
            ApiError::Unsubscribe(Unsubscribed::Expired) => "unsubscribe.expired",
            ApiError::Unsubscribe(_) => "unsubscribe.unknown",
            ApiError::CommunityNotMember => "community.not_member",
            ApiError::RulesNotAccepted(_) => "community.rules_not_accepted",
            ApiError::Suspended(_) => "community.suspended",
            ApiError::PostingThrottled(..) | ApiError::ApplicationsThrottled(_) => {
                "community.throttled"
            }
            ApiError::Busy { .. } => "server.busy",
            ApiError::Internal(_) => "server.internal",
        }
    }
}

impl From<kinlink_store::StoreError> for ApiError {
    fn from(error: kinlink_store::StoreError) -> Self {
        match error {
            kinlink_store::StoreError::NotFound { .. } => ApiError::NotFound,
            kinlink_store::StoreError::Conflict { what } => ApiError::Conflict(format!(
                "the request conflicts with the stored {what}; reload and try again"
            )),
            kinlink_store::StoreError::Stale { .. } => ApiError::PreconditionFailed,
            other => ApiError::Internal(other.into()),
        }
    }
}

impl From<kinlink_actors::ActorError> for ApiError {
    fn from(error: kinlink_actors::ActorError) -> Self {
        ApiError::Internal(error.into())
    }
}

impl From<kinlink_core::crypto::CryptoError> for ApiError {
    fn from(error: kinlink_core::crypto::CryptoError) -> Self {
        ApiError::Internal(error.into())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::InvalidJson { .. }
            | ApiError::InvalidField(_)
            | ApiError::UnknownParameter(_) => StatusCode::BAD_REQUEST,
            ApiError::OriginRejected
            | ApiError::Forbidden
            | ApiError::AccountPending
            | ApiError::AccountDisabled
            | ApiError::ReadOnly
            | ApiError::LicenceInactive
            | ApiError::CommunityNotMember
            | ApiError::RulesNotAccepted(_)
            | ApiError::Suspended(_) => StatusCode::FORBIDDEN,
            ApiError::PostingThrottled(..) | ApiError::ApplicationsThrottled(_) => {
                StatusCode::TOO_MANY_REQUESTS
            }

            ApiError::AuthRequired
            | ApiError::InvalidCredentials
            | ApiError::SecondFactorRequired
            | ApiError::SecondFactorInvalid => StatusCode::UNAUTHORIZED,
            ApiError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::LegalHold { .. } => StatusCode::CONFLICT,
            ApiError::Invitation(InvitationProblem::Unknown) => StatusCode::NOT_FOUND,
            ApiError::Invitation(_) => StatusCode::GONE,
            ApiError::CommunityLink(InvitationProblem::Unknown) => StatusCode::NOT_FOUND,
            ApiError::CommunityLink(_) => StatusCode::GONE,
            ApiError::RecoveryLink(InvitationProblem::Unknown) => StatusCode::NOT_FOUND,
            ApiError::RecoveryLink(_) => StatusCode::GONE,
            ApiError::RecoveryRejected(_) => StatusCode::FORBIDDEN,
            ApiError::Unsubscribe(Unsubscribed::Expired) => StatusCode::GONE,
            ApiError::Unsubscribe(_) => StatusCode::NOT_FOUND,
            ApiError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        // Only an internal failure hides its message; it is logged whole.
        let internal = matches!(self, ApiError::Internal(_));
        if internal {
            tracing::error!(error = %kinlink_actors::Causes(self), code = self.code(), "request failed");
        }
        let message = if internal {
            String::new()
        } else {
            self.to_string()
        };
        let field = match self {
            ApiError::InvalidField(invalid) => Some(invalid.field),
            ApiError::InvalidJson { field, .. } => field.as_deref(),
            ApiError::UnknownParameter(name) => Some(name.as_str()),
            _ => None,
        };
        let mut response = HttpResponse::build(status);
        if let ApiError::Throttled {
            retry_after_seconds,
        }
        | ApiError::Busy {
            retry_after_seconds,
        }
        | ApiError::PostingThrottled(_, retry_after_seconds)
        | ApiError::ApplicationsThrottled(retry_after_seconds) = self
        {
            response.insert_header(("Retry-After", retry_after_seconds.to_string()));
        }
        response.json(ErrorBody {
            code: self.code(),
            message,
            field,
        })
    }
}
