//! Family-finding statistics: how often an organisation's profiles were
//! viewed by other organisations, and national sufficiency counts with
//! every small count suppressed.

use std::collections::HashMap;

use actix_web::web;
use chrono::Utc;
use kinlink_core::permissions::Action;
use kinlink_core::profiles::{AGE_BANDS, CaseKind, Ethnicity, Region, age_band};
use kinlink_core::sufficiency::{
    OneWayCounts, PublishedOneWay, PublishedTwoWay, TwoWayCounts, suppress_one_way,
    suppress_two_way,
};
use serde::Serialize;
use tracing::instrument;

use super::cases::{CaseSummary, summary};
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::family_finding::staff_workplace;
use crate::state::AppState;

/// One case with the number of times other organisations viewed it.
#[derive(Serialize)]
pub struct ViewCount {
    case: CaseSummary,
    views: i64,
}

/// Lists the caller's organisation's cases with their view counts by
/// other organisations, most viewed first.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn profile_views(
    state: web::Data<AppState>,
    user: SignedIn,
) -> Result<web::Json<Vec<ViewCount>>, ApiError> {
    let workplace = staff_workplace(&state, &user, Action::ReadCaseStatistics).await?;
    let counts: HashMap<uuid::Uuid, i64> = state
        .store
        .case_view_counts(workplace.id())
        .await?
        .into_iter()
        .collect();
    let mut rows = Vec::new();
    for kind in [CaseKind::Child, CaseKind::Family] {
        for row in state
            .store
            .organisation_cases(workplace.id(), kind.as_str())
            .await?
        {
            let views = counts.get(&row.id).copied().unwrap_or(0);
            rows.push(ViewCount {
                case: summary(&state, &row, workplace.id()).await?,
                views,
            });
        }
    }
    rows.sort_by_key(|row| std::cmp::Reverse(row.views));
    Ok(web::Json(rows))
}

/// National sufficiency counts, as published.
#[derive(Serialize)]
pub struct Sufficiency {
    /// Active family cases by region (rows) and ethnic group (columns).
    families: PublishedTwoWay,
    /// Children in active child cases, each counted once, by age band.
    children: PublishedOneWay,
}

/// Returns the national sufficiency counts of every licensed organisation,
/// with each count under 5, and each count a reader could work out from
/// the shown ones by subtraction, suppressed.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn sufficiency(
    state: web::Data<AppState>,
    user: SignedIn,
) -> Result<web::Json<Sufficiency>, ApiError> {
    staff_workplace(&state, &user, Action::ReadSufficiency).await?;
    let now = Utc::now();
    let mut families = TwoWayCounts::new(
        Region::ALL.iter().map(|region| region.as_str()),
        Ethnicity::ALL.iter().map(|group| group.as_str()),
    );
    for (region, ethnicity, count) in state.store.family_counts(now).await? {
        families.add(&region, &ethnicity, u64::try_from(count).unwrap_or(0));
    }
    let mut children = OneWayCounts::new(AGE_BANDS.iter().map(|(band, _)| *band));
    for ages in state.store.waiting_children_ages(now).await? {
        for age in ages.split(',').filter_map(|age| age.parse::<u8>().ok()) {
            children.add(age_band(age), 1);
        }
    }
    Ok(web::Json(Sufficiency {
        families: suppress_two_way(&families),
        children: suppress_one_way(&children),
    }))
}
