//! Search of published profiles, and match suggestions with their
//! explanations.

use std::collections::HashMap;

use actix_web::{HttpRequest, web};
use chrono::Utc;
use kinlink_core::matching::{Match, explain};
use kinlink_core::permissions::Action;
use kinlink_core::profiles::{
    CaseKind, LegalStatus, MAX_AGE_YEARS, MAX_GROUP_SIZE, NeedLevel, Plan, Region,
};
use kinlink_store::cases::CaseQuery;
use serde::Serialize;
use tracing::instrument;

use super::cases::{CaseSummary, summary};
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::family_finding::{case_access, child_codes, family_codes, staff_workplace};
use crate::letterbox::invalid;
use crate::state::AppState;

/// Largest page a search returns.
pub const MAX_PAGE_SIZE: u64 = 100;
/// Page size when the request names none.
const DEFAULT_PAGE_SIZE: u64 = 20;
/// Highest page number a search accepts.
const MAX_PAGE: u64 = 10_000;
/// Most candidates one match request scores, the most recently active
/// first.
const MATCH_CANDIDATES: u64 = 1_000;
/// Suggestions a match request returns.
const MATCH_SUGGESTIONS: usize = 20;

/// One page of search results.
#[derive(Serialize)]
pub struct SearchPage {
    total: u64,
    page: u64,
    page_size: u64,
    results: Vec<CaseSummary>,
}

/// The query parameters of a search, each read once.
struct Params(HashMap<String, String>);

impl Params {
    fn take(&mut self, name: &str) -> Option<String> {
        self.0.remove(name)
    }

    fn number(&mut self, name: &'static str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
        let Some(text) = self.take(name) else {
            return Ok(None);
        };
        let value: i64 = text
            .trim()
            .parse()
            .map_err(|_not_a_number| invalid(name, "must be a whole number"))?;
        if !(min..=max).contains(&value) {
            return Err(invalid(name, format!("{value} is outside {min} to {max}")));
        }
        Ok(Some(value))
    }

    fn code<T>(
        &mut self,
        name: &'static str,
        parse: fn(&str) -> Option<T>,
    ) -> Result<Option<T>, ApiError> {
        let Some(text) = self.take(name) else {
            return Ok(None);
        };
        parse(&text)
            .map(Some)
            .ok_or_else(|| invalid(name, "is not a known code"))
    }

    fn level(&mut self, name: &'static str) -> Result<Option<i16>, ApiError> {
        Ok(self.code(name, NeedLevel::parse)?.map(NeedLevel::rank))
    }

    /// Rejects any parameter no filter read.
    fn finish(self) -> Result<(), ApiError> {
        match self.0.keys().min() {
            Some(name) => Err(ApiError::UnknownParameter(name.clone())),
            None => Ok(()),
        }
    }
}

fn paging(params: &mut Params, query: &mut CaseQuery) -> Result<(), ApiError> {
    let page = params.number("page", 1, MAX_PAGE as i64)?.unwrap_or(1);
    let size = params
        .number("page_size", 1, MAX_PAGE_SIZE as i64)?
        .unwrap_or(DEFAULT_PAGE_SIZE as i64);
    query.page = (page - 1) as u64;
    query.page_size = size as u64;
    Ok(())
}

const MAX_AGE: i64 = MAX_AGE_YEARS as i64;
const MAX_SIZE: i64 = MAX_GROUP_SIZE as i64;

/// Reads the filters of a search for children.
fn children_query(mut params: Params) -> Result<CaseQuery, ApiError> {
    let mut query = CaseQuery {
        kind: CaseKind::Child.as_str(),
        ..CaseQuery::default()
    };
    query.min_age = params.number("min_age", 0, MAX_AGE)?.map(|age| age as i16);
    query.max_age = params.number("max_age", 0, MAX_AGE)?.map(|age| age as i16);
    if let (Some(min), Some(max)) = (query.min_age, query.max_age)
        && min > max
    {
        return Err(invalid("min_age", format!("{min} is above max_age {max}")));
    }
    query.min_group_size = params
        .number("min_group_size", 1, MAX_SIZE)?
        .map(|n| n as i16);
    query.max_group_size = params
        .number("max_group_size", 1, MAX_SIZE)?
        .map(|n| n as i16);
    if let (Some(min), Some(max)) = (query.min_group_size, query.max_group_size)
        && min > max
    {
        return Err(invalid(
            "min_group_size",
            format!("{min} is above max_group_size {max}"),
        ));
    }
    query.region = params
        .code("region", Region::parse)?
        .map(|r| r.as_str().to_owned());
    query.legal_status = params
        .code("legal_status", LegalStatus::parse)?
        .map(|s| s.as_str().to_owned());
    query.plan = params
        .code("plan", Plan::parse)?
        .map(|p| p.as_str().to_owned());
    query.max_needs = [
        params.level("max_need_health")?,
        params.level("max_need_development")?,
        params.level("max_need_history")?,
    ];
    paging(&mut params, &mut query)?;
    params.finish()?;
    Ok(query)
}

/// Reads the filters of a search for families.
fn families_query(mut params: Params) -> Result<CaseQuery, ApiError> {
    let mut query = CaseQuery {
        kind: CaseKind::Family.as_str(),
        ..CaseQuery::default()
    };
    query.offers_age = params.number("age", 0, MAX_AGE)?.map(|age| age as i16);
    query.min_group_size = params.number("children", 1, MAX_SIZE)?.map(|n| n as i16);
    query.region = params
        .code("region", Region::parse)?
        .map(|r| r.as_str().to_owned());
    query.plan = params
        .code("plan", Plan::parse)?
        .map(|p| p.as_str().to_owned());
    query.min_needs = [
        params.level("min_need_health")?,
        params.level("min_need_development")?,
        params.level("min_need_history")?,
    ];
    paging(&mut params, &mut query)?;
    params.finish()?;
    Ok(query)
}

async fn search(
    state: &AppState,
    user: &SignedIn,
    mut query: CaseQuery,
) -> Result<SearchPage, ApiError> {
    let workplace = staff_workplace(state, user, Action::SearchProfiles).await?;
    query.viewer = Some(workplace.id());
    query.now = Some(Utc::now());
    let found = state.store.search_cases(&query).await?;
    let mut results = Vec::with_capacity(found.cases.len());
    for row in &found.cases {
        results.push(summary(state, row, workplace.id()).await?);
    }
    Ok(SearchPage {
        total: found.total,
        page: query.page + 1,
        page_size: query.page_size,
        results,
    })
}

/// Reads the query string into its parameters, rejecting one given twice,
/// whose meaning would otherwise depend on which copy wins.
fn params_of(request: &HttpRequest) -> Result<Params, ApiError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(request.query_string()).map_err(|_malformed| {
            ApiError::InvalidJson {
                message: "the query string is not valid URL encoding".to_owned(),
                field: None,
            }
        })?;
    let mut params = HashMap::new();
    for (name, value) in pairs {
        if params.contains_key(&name) {
            return Err(ApiError::InvalidField(kinlink_core::values::InvalidValue {
                field: repeated_name(&name),
                reason: "is given more than once".to_owned(),
            }));
        }
        params.insert(name, value);
    }
    Ok(Params(params))
}

/// Returns the static name of a known parameter, for an error that names it.
fn repeated_name(name: &str) -> &'static str {
    KNOWN_PARAMETERS
        .iter()
        .find(|known| **known == name)
        .copied()
        .unwrap_or("query")
}

/// Every parameter either search reads.
const KNOWN_PARAMETERS: &[&str] = &[
    "min_age",
    "max_age",
    "age",
    "children",
    "min_group_size",
    "max_group_size",
    "region",
    "legal_status",
    "plan",
    "max_need_health",
    "max_need_development",
    "max_need_history",
    "min_need_health",
    "min_need_development",
    "min_need_history",
    "page",
    "page_size",
];

/// Searches the child cases the caller's organisation may see.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn children(
    state: web::Data<AppState>,
    user: SignedIn,
    request: HttpRequest,
) -> Result<web::Json<SearchPage>, ApiError> {
    let query = children_query(params_of(&request)?)?;
    Ok(web::Json(search(&state, &user, query).await?))
}

/// Searches the family cases the caller's organisation may see.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn families(
    state: web::Data<AppState>,
    user: SignedIn,
    request: HttpRequest,
) -> Result<web::Json<SearchPage>, ApiError> {
    let query = families_query(params_of(&request)?)?;
    Ok(web::Json(search(&state, &user, query).await?))
}

/// A suggested case with its explained score.
#[derive(Serialize)]
pub struct Suggestion {
    case: CaseSummary,
    #[serde(flatten)]
    found: Match,
}

/// Suggests cases of the other kind for one of the caller's organisation's
/// cases, best score first, each with every criterion met or not.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn matches(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<web::Json<Vec<Suggestion>>, ApiError> {
    let id: uuid::Uuid = super::parse_id(&path)?;
    let access = case_access(&state, &user, id).await?;
    access.require(&user, Action::SearchProfiles)?;
    let Some(workplace) = &access.workplace else {
        return Err(ApiError::Forbidden);
    };
    let own = &access.case;
    let other = if own.kind == CaseKind::Child.as_str() {
        CaseKind::Family
    } else {
        CaseKind::Child
    };
    let query = CaseQuery {
        kind: other.as_str(),
        viewer: Some(workplace.id()),
        now: Some(Utc::now()),
        page: 0,
        page_size: MATCH_CANDIDATES,
        ..CaseQuery::default()
    };
    let candidates = state.store.search_cases(&query).await?.cases;
    let mut scored = Vec::new();
    for candidate in candidates {
        let found = match other {
            CaseKind::Family => child_codes(own)
                .zip(family_codes(&candidate))
                .map(|(child, family)| explain(&child, &family)),
            CaseKind::Child => family_codes(own)
                .zip(child_codes(&candidate))
                .map(|(family, child)| explain(&child, &family)),
        };
        if let Some(found) = found {
            scored.push((candidate, found));
        }
    }
    // A stable sort keeps the most recently active first among equals.
    scored.sort_by_key(|(_, found)| std::cmp::Reverse(found.score));
    let mut suggestions = Vec::new();
    for (candidate, found) in scored.into_iter().take(MATCH_SUGGESTIONS) {
        suggestions.push(Suggestion {
            case: summary(&state, &candidate, workplace.id()).await?,
            found,
        });
    }
    Ok(web::Json(suggestions))
}

/// Explains how one of the caller's organisation's cases fits one other
/// case they may read, whether or not it is among the suggestions.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn pair(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<(String, String)>,
) -> Result<web::Json<Suggestion>, ApiError> {
    let (own_id, other_id) = path.into_inner();
    let own_id: uuid::Uuid = super::parse_id(&own_id)?;
    let other_id: uuid::Uuid = super::parse_id(&other_id)?;
    let access = case_access(&state, &user, own_id).await?;
    access.require(&user, Action::SearchProfiles)?;
    let Some(workplace) = &access.workplace else {
        return Err(ApiError::Forbidden);
    };
    let other = case_access(&state, &user, other_id).await?;
    other.require(&user, Action::ReadCase)?;
    let (own, candidate) = (&access.case, &other.case);
    let found = if own.kind == CaseKind::Child.as_str() {
        child_codes(own).zip(family_codes(candidate))
    } else {
        child_codes(candidate).zip(family_codes(own))
    }
    .map(|(child, family)| explain(&child, &family))
    .ok_or_else(|| {
        invalid(
            "other_id",
            "a match pairs a child case with a family case; these are of one kind",
        )
    })?;
    Ok(web::Json(Suggestion {
        case: summary(&state, candidate, workplace.id()).await?,
        found,
    }))
}
