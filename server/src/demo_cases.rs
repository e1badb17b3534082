//! Demo family-finding cases: a sibling group and a single child at the
//! council, and two families at the agency, so search and matching have
//! something to find on a first run.

use chrono::{NaiveDate, Utc};
use kinlink_core::crypto::SecretKey;
use kinlink_core::profiles::{
    Child, ChildProfile, Ethnicity, FamilyProfile, LegalStatus, NeedLevel, NeedNotes, Needs, Offer,
    Plan, Region,
};
use kinlink_core::{OrganisationId, UserId};
use kinlink_store::Store;
use kinlink_store::cases::{NewCase, Publication};

use crate::family_finding::{Profile, seal_profile};

fn needs(health: NeedLevel, development: NeedLevel, history: NeedLevel) -> Needs {
    Needs {
        health,
        development,
        history,
    }
}

fn child(first_name: &str, age_years: u8) -> Child {
    Child {
        first_name: first_name.to_owned(),
        age_years,
    }
}

/// Creates the demo cases. `organisations` are the council and the agency,
/// `workers` a practitioner of each.
pub async fn seed(
    store: &Store,
    profile_key: &SecretKey,
    [council, agency]: [OrganisationId; 2],
    [council_worker, agency_worker]: [UserId; 2],
) -> anyhow::Result<()> {
    let approved = NaiveDate::from_ymd_opt(2026, 2, 12).unwrap_or_default();
    let cases = [
        (
            council,
            council_worker,
            Profile::Child(ChildProfile {
                children: vec![child("Maisie", 4), child("Jack", 7)],
                description: "A brother and sister who are close and want to stay together. \
                    Maisie loves drawing; Jack plays football every weekend."
                    .to_owned(),
                legal_status: LegalStatus::PlacementOrder,
                plan: Plan::Adoption,
                region: Region::YorkshireAndHumber,
                needs: needs(NeedLevel::Low, NeedLevel::Moderate, NeedLevel::Moderate),
                need_notes: NeedNotes {
                    health: "Mild asthma, managed with an inhaler.".to_owned(),
                    development: "Jack has extra help with reading at school.".to_owned(),
                    history: "Early neglect; both have settled well in foster care.".to_owned(),
                },
                ethnicity: Ethnicity::White,
                religion: String::new(),
            }),
            Publication::All,
        ),
        (
            council,
            council_worker,
            Profile::Child(ChildProfile {
                children: vec![child("Tyler", 9)],
                description: "A thoughtful boy who likes building models.".to_owned(),
                legal_status: LegalStatus::CareOrder,
                plan: Plan::LongTermFostering,
                region: Region::YorkshireAndHumber,
                needs: needs(NeedLevel::None, NeedLevel::Low, NeedLevel::High),
                need_notes: NeedNotes::default(),
                ethnicity: Ethnicity::Mixed,
                religion: String::new(),
            }),
            Publication::Draft,
        ),
        (
            agency,
            agency_worker,
            Profile::Family(FamilyProfile {
                household_name: "The Adeyemi family".to_owned(),
                household_description: "A couple in their forties with a large garden and \
                    a retired greyhound."
                    .to_owned(),
                approved_for: vec![Plan::Adoption],
                approval_date: approved,
                region: Region::YorkshireAndHumber,
                ethnicity: Ethnicity::Black,
                offer: Offer {
                    min_age: 2,
                    max_age: 8,
                    max_children: 2,
                    needs: needs(NeedLevel::Moderate, NeedLevel::Moderate, NeedLevel::High),
                },
            }),
            Publication::All,
        ),
        (
            agency,
            agency_worker,
            Profile::Family(FamilyProfile {
                household_name: "The Price family".to_owned(),
                household_description: "Experienced foster carers with two grown-up children."
                    .to_owned(),
                approved_for: vec![Plan::LongTermFostering, Plan::ShortTermFostering],
                approval_date: approved,
                region: Region::Wales,
                ethnicity: Ethnicity::White,
                offer: Offer {
                    min_age: 0,
                    max_age: 12,
                    max_children: 3,
                    needs: needs(NeedLevel::High, NeedLevel::High, NeedLevel::High),
                },
            }),
            Publication::Named(vec![council]),
        ),
    ];
    let now = Utc::now();
    for (organisation, worker, profile, publication) in cases {
        let id = uuid::Uuid::now_v7();
        let columns = profile.columns(now.date_naive())?;
        let sealed_profile = seal_profile(profile_key, id, &profile)?;
        store
            .create_case(NewCase {
                id,
                kind: profile.kind().as_str(),
                organisation_id: organisation,
                created_by: worker,
                columns,
                sealed_profile,
                at: now,
            })
            .await?;
        if publication != Publication::Draft {
            store
                .publish_case(id, organisation, None, &publication, false, now)
                .await?;
        }
    }
    Ok(())
}
