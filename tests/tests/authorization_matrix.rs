//! The family-finding authorization matrix. One server gets a fixture of
//! cases, publications, interests and a transfer, made through the API.
//! Every demo user then probes every case on every route, and each response
//! is compared with the row of `tests/authorization/family-finding.txt`
//! for the caller's role, the caller's relation to the case, the case's
//! state and the route. The probes run again with the council's licence
//! read-only, ended and not started.
//!
//! No probe changes anything. Every route checks authorization before it
//! checks the request, so each writing probe sends a body that an allowed
//! caller gets rejected later. The bodies are a profile of the wrong kind,
//! an unknown visibility, a transfer to the case's own organisation, an
//! interest for a family at its limit of open interests, and an unknown
//! interest state.
//! The test compares every case, interest and organisation before and
//! after the probes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use anyhow::Context;
use chrono::{Duration, Utc};
use futures_util::StreamExt;
use kinlink_tests::app::{AppOptions, TestApp};
use kinlink_tests::client::{Client, status_and_json};
use serde_json::{Value, json};

/// The expected outcomes, one line per role, relation, state, route and
/// pair of licence states.
const MATRIX: &str = include_str!("../authorization/family-finding.txt");
const MATRIX_PATH: &str = "tests/authorization/family-finding.txt";

/// Requests in flight at once while probing.
const PARALLEL_PROBES: usize = 8;

/// The server's `family_finding.max_open_interests`: the maximum number of
/// interests that have not ended per family case. At 1, the probe family
/// case of each organisation is at its limit after one interest, so an
/// allowed interest probe gets `409`.
const MAX_OPEN_INTERESTS: &str = "1";

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Org {
    Council,
    Agency,
    /// A placing organisation without workers, created by the operator as
    /// a publication target.
    Third,
    /// The platform operator's own organisation.
    Operator,
}

/// The demo users: key, role and employer.
const USERS: [(&str, &str, Org); 9] = [
    ("la_manager", "manager", Org::Council),
    ("la_practitioner", "practitioner", Org::Council),
    ("adoptive_parent", "adoptive_family_member", Org::Council),
    ("birth_parent", "birth_family_member", Org::Council),
    ("va_manager", "manager", Org::Agency),
    ("va_practitioner", "practitioner", Org::Agency),
    (
        "second_adoptive_parent",
        "adoptive_family_member",
        Org::Agency,
    ),
    ("second_birth_relative", "birth_family_member", Org::Agency),
    ("platform_admin", "platform_admin", Org::Operator),
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Licence {
    Active,
    ReadOnly,
    Ended,
    NotStarted,
}

impl Licence {
    fn name(self) -> &'static str {
        match self {
            Licence::Active => "active",
            Licence::ReadOnly => "read_only",
            Licence::Ended => "ended",
            Licence::NotStarted => "not_started",
        }
    }
}

/// The cases probed again while the council's licence is not active. They
/// are a council case published to all, a council case that an agency
/// worker discusses after it went back to draft, and an agency case
/// published to all. The others are an agency draft that council workers
/// discuss, and a case the council transferred to the agency while a
/// council worker discussed it.
const LICENCE_CASES: [&str; 5] = [
    "maisie_jack",
    "discussed",
    "adeyemi",
    "agency_probe_family",
    "transferred_with_council_family",
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Route {
    Read,
    Matches,
    Edit,
    Publish,
    Transfer,
    Interest,
    InterestState,
    MatchPair,
    MediaAdd,
    FamilyInvite,
}

impl Route {
    const ALL: [Route; 10] = [
        Route::Read,
        Route::Matches,
        Route::MatchPair,
        Route::Edit,
        Route::Publish,
        Route::Transfer,
        Route::Interest,
        Route::InterestState,
        Route::MediaAdd,
        Route::FamilyInvite,
    ];

    fn name(self) -> &'static str {
        match self {
            Route::Read => "read",
            Route::Matches => "matches",
            Route::Edit => "edit",
            Route::Publish => "publish",
            Route::Transfer => "transfer",
            Route::Interest => "interest",
            Route::InterestState => "interest_state",
            Route::MatchPair => "match_pair",
            Route::MediaAdd => "media_add",
            Route::FamilyInvite => "family_invite",
        }
    }

    /// Returns the expected response of an allowed probe: the error of the
    /// check after authorization that the probe's body fails, or success
    /// for a read. Inviting a case's family fails on a child case before
    /// its body is looked at.
    fn allowed_response(self, kind: Kind) -> ResponseSummary {
        match self {
            Route::Read | Route::Matches => ResponseSummary::new(200, "", ""),
            Route::Edit => ResponseSummary::new(400, "request.invalid_field", "kind"),
            Route::Publish => ResponseSummary::new(400, "request.invalid_field", "visibility"),
            Route::Transfer => {
                ResponseSummary::new(400, "request.invalid_field", "organisation_id")
            }
            Route::Interest => ResponseSummary::new(409, "resource.conflict", ""),
            Route::InterestState => ResponseSummary::new(400, "request.invalid_field", "state"),
            Route::MatchPair => ResponseSummary::new(400, "request.invalid_field", "other_id"),
            Route::MediaAdd => ResponseSummary::new(400, "request.invalid_field", "slot"),
            Route::FamilyInvite => match kind {
                Kind::Child => ResponseSummary::new(409, "resource.conflict", ""),
                Kind::Family => ResponseSummary::new(400, "request.invalid_field", "email"),
            },
        }
    }
}

/// An expected outcome as the data file writes it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Outcome {
    Allow,
    Forbidden,
    NotFound,
    ReadOnly,
    LicenceInactive,
}

impl Outcome {
    fn parse(text: &str) -> Option<Outcome> {
        match text {
            "allow" => Some(Outcome::Allow),
            "403" => Some(Outcome::Forbidden),
            "404" => Some(Outcome::NotFound),
            "403:read_only" => Some(Outcome::ReadOnly),
            "403:licence_inactive" => Some(Outcome::LicenceInactive),
            _ => None,
        }
    }

    fn expected_response(self, route: Route, kind: Kind) -> ResponseSummary {
        match self {
            Outcome::Allow => route.allowed_response(kind),
            Outcome::Forbidden => ResponseSummary::new(403, "request.forbidden", ""),
            Outcome::NotFound => ResponseSummary::new(404, "resource.not_found", ""),
            Outcome::ReadOnly => ResponseSummary::new(403, "organisation.read_only", ""),
            Outcome::LicenceInactive => {
                ResponseSummary::new(403, "organisation.licence_inactive", "")
            }
        }
    }
}

/// The parts of a response that the matrix compares: the status, the error
/// code and the field at fault, each empty when the body has none.
#[derive(Clone, PartialEq, Eq, Debug)]
struct ResponseSummary {
    status: u16,
    code: String,
    field: String,
}

impl ResponseSummary {
    fn new(status: u16, code: &str, field: &str) -> Self {
        Self {
            status,
            code: code.to_owned(),
            field: field.to_owned(),
        }
    }
}

impl fmt::Display for ResponseSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.status)?;
        if !self.code.is_empty() {
            write!(f, " {}", self.code)?;
        }
        if !self.field.is_empty() {
            write!(f, " (field {})", self.field)?;
        }
        Ok(())
    }
}

/// The columns that pick a row of the data file.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Debug)]
struct Key {
    role: String,
    relation: String,
    state: String,
    route: String,
    caller_licence: String,
    owner_licence: String,
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {} {}",
            self.role,
            self.relation,
            self.state,
            self.route,
            self.caller_licence,
            self.owner_licence
        )
    }
}

/// One line of the data file.
struct Row {
    line: usize,
    outcome: Outcome,
    text: String,
}

/// Parses the data file: comments start with `#`, and every other
/// non-blank line contains the six key columns and the outcome.
fn parse_matrix(text: &str) -> Result<BTreeMap<Key, Row>, Vec<String>> {
    let mut rows = BTreeMap::new();
    let mut errors = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.split('#').next().unwrap_or_default().trim();
        if content.is_empty() {
            continue;
        }
        let columns: Vec<&str> = content.split_whitespace().collect();
        let [role, relation, state, route, caller, owner, outcome] = columns[..] else {
            errors.push(format!(
                "{MATRIX_PATH}:{line}: expected 7 columns, found {}: {content:?}",
                columns.len()
            ));
            continue;
        };
        let Some(outcome) = Outcome::parse(outcome) else {
            errors.push(format!(
                "{MATRIX_PATH}:{line}: unknown outcome {outcome:?}: expected allow, 403, 404, \
                 403:read_only or 403:licence_inactive"
            ));
            continue;
        };
        let key = Key {
            role: role.to_owned(),
            relation: relation.to_owned(),
            state: state.to_owned(),
            route: route.to_owned(),
            caller_licence: caller.to_owned(),
            owner_licence: owner.to_owned(),
        };
        let row = Row {
            line,
            outcome,
            text: content.to_owned(),
        };
        if let Some(earlier) = rows.get(&key) {
            let earlier: &Row = earlier;
            errors.push(format!(
                "{MATRIX_PATH}:{line}: the same key as line {}: {key}",
                earlier.line
            ));
            continue;
        }
        rows.insert(key, row);
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

struct User {
    key: &'static str,
    role: &'static str,
    org: Org,
    client: Client,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Child,
    Family,
}

#[derive(Clone, PartialEq, Eq, Debug)]
enum Visibility {
    Draft,
    All,
    Named(Vec<Org>),
}

/// A case as the fixture made it.
struct Case {
    /// The fixture's name for the case, used in messages.
    name: &'static str,
    id: String,
    kind: Kind,
    owner: Org,
    visibility: Visibility,
    anonymous: bool,
    placed: bool,
    /// The organisation that transferred the case to its owner.
    transferred_from: Option<Org>,
}

/// An interest as the fixture made it.
struct Interest {
    name: &'static str,
    id: String,
    child: &'static str,
    family: &'static str,
    /// The demo users who are current members of its discussion.
    members: BTreeSet<&'static str>,
}

struct Fixture {
    users: Vec<User>,
    organisations: BTreeMap<Org, String>,
    cases: Vec<Case>,
    interests: Vec<Interest>,
    /// The council's terms as the admin area shows them, to restore after
    /// the licence phases.
    council_terms: Value,
}

impl Fixture {
    fn user(&self, key: &str) -> &User {
        self.users
            .iter()
            .find(|user| user.key == key)
            .unwrap_or_else(|| panic!("no demo user {key}"))
    }

    fn client(&self, key: &str) -> &Client {
        &self.user(key).client
    }

    fn case(&self, name: &str) -> &Case {
        self.cases
            .iter()
            .find(|case| case.name == name)
            .unwrap_or_else(|| panic!("no fixture case {name}"))
    }

    fn organisation_id(&self, org: Org) -> &str {
        &self.organisations[&org]
    }

    /// Returns the demo users in any discussion about the case.
    fn case_members(&self, case: &Case) -> BTreeSet<&'static str> {
        self.interests
            .iter()
            .filter(|interest| interest.child == case.name || interest.family == case.name)
            .flat_map(|interest| interest.members.iter().copied())
            .collect()
    }

    /// Returns the family case an organisation's workers express interest
    /// for: one at its limit of open interests. The operator has none and
    /// reads no child case, so the route returns 404 before it reads
    /// the family case that the operator's probe names.
    fn probe_family(&self, org: Org) -> &Case {
        match org {
            Org::Agency => self.case("agency_probe_family"),
            Org::Council | Org::Third | Org::Operator => self.case("council_probe_family"),
        }
    }
}

/// Returns the caller's relation to a case. `members` are the members of
/// the discussions that count: every discussion about the case for a case
/// route, or the probed interest's discussion for the interest state route.
fn relation(user: &User, case: &Case, members: &BTreeSet<&'static str>) -> &'static str {
    let member = members.contains(user.key);
    if case.owner == user.org {
        return if member { "own_discussion" } else { "own" };
    }
    if member {
        return "discussion";
    }
    if case.transferred_from == Some(user.org) {
        return "transferred_away";
    }
    match &case.visibility {
        Visibility::All => "published_all",
        Visibility::Named(named) if named.contains(&user.org) => "published_named",
        Visibility::Draft | Visibility::Named(_) => "not_published",
    }
}

/// Returns the state of a case.
fn state(case: &Case) -> &'static str {
    if case.transferred_from.is_some() {
        "transferred"
    } else if case.placed {
        "placed"
    } else if case.anonymous {
        "anonymous"
    } else {
        match case.visibility {
            Visibility::Draft => "draft",
            Visibility::All => "all",
            Visibility::Named(_) => "named",
        }
    }
}

fn child_profile(first_name: &str, age_years: u8) -> Value {
    json!({
        "kind": "child",
        "profile": {
            "children": [{ "first_name": first_name, "age_years": age_years }],
            "description": "Likes swimming and building dens.",
            "legal_status": "placement_order",
            "plan": "adoption",
            "region": "north_west",
            "needs": { "health": "low", "development": "low", "history": "moderate" },
            "ethnicity": "white"
        }
    })
}

fn family_profile(household_name: &str) -> Value {
    json!({
        "kind": "family",
        "profile": {
            "household_name": household_name,
            "household_description": "A couple with a spare room and a patient dog.",
            "approved_for": ["adoption"],
            "approval_date": "2026-01-15",
            "region": "north_west",
            "ethnicity": "mixed",
            "offer": {
                "min_age": 0, "max_age": 10, "max_children": 2,
                "needs": { "health": "high", "development": "high", "history": "high" }
            }
        }
    })
}

/// Checks a setup step's status and returns its body.
async fn expect_status(
    response: reqwest::Response,
    status: u16,
    step: &str,
) -> anyhow::Result<Value> {
    let (got, body) = status_and_json(response).await?;
    anyhow::ensure!(
        got == status,
        "{step}: expected {status}, got {got}: {body}"
    );
    Ok(body)
}

fn id_of(body: &Value, step: &str) -> anyhow::Result<String> {
    body["id"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("{step}: no id in {body}"))
}

/// Creates a case and publishes it unless `visibility` is draft.
async fn create_case(
    fixture: &mut Fixture,
    creator: &str,
    name: &'static str,
    profile: Value,
    visibility: Visibility,
    anonymous: bool,
) -> anyhow::Result<()> {
    let user = fixture.user(creator);
    let owner = user.org;
    let client = user.client.clone();
    let kind = if profile["kind"] == "child" {
        Kind::Child
    } else {
        Kind::Family
    };
    let created = expect_status(
        client.post("/api/v1/cases", &profile).await?,
        201,
        &format!("create case {name}"),
    )
    .await?;
    let id = id_of(&created, name)?;
    if visibility != Visibility::Draft || anonymous {
        publish(fixture, creator, &id, &visibility, anonymous).await?;
    }
    fixture.cases.push(Case {
        name,
        id,
        kind,
        owner,
        visibility,
        anonymous,
        placed: false,
        transferred_from: None,
    });
    Ok(())
}

async fn publish(
    fixture: &Fixture,
    by: &str,
    id: &str,
    visibility: &Visibility,
    anonymous: bool,
) -> anyhow::Result<()> {
    let body = match visibility {
        Visibility::Draft => json!({ "visibility": "draft", "anonymous": anonymous }),
        Visibility::All => json!({ "visibility": "all", "anonymous": anonymous }),
        Visibility::Named(named) => json!({
            "visibility": "named",
            "organisations": named
                .iter()
                .map(|org| fixture.organisation_id(*org))
                .collect::<Vec<_>>(),
            "anonymous": anonymous,
        }),
    };
    let response = fixture
        .client(by)
        .put(&format!("/api/v1/cases/{id}/publication"), &body)
        .await?;
    expect_status(response, 200, &format!("publish case {id} with {body}")).await?;
    Ok(())
}

/// Expresses a family case's interest in a child case. The discussion's
/// members are the worker who expressed it and the child case's creator.
async fn express(
    fixture: &mut Fixture,
    by: &'static str,
    name: &'static str,
    child: &'static str,
    child_creator: &'static str,
    family: &'static str,
) -> anyhow::Result<()> {
    let path = format!("/api/v1/cases/{}/interests", fixture.case(child).id);
    let body = json!({ "family_case_id": fixture.case(family).id });
    let response = fixture.client(by).post(&path, &body).await?;
    let interest = expect_status(response, 201, &format!("express interest {name}")).await?;
    fixture.interests.push(Interest {
        name,
        id: id_of(&interest, name)?,
        child,
        family,
        members: [by, child_creator].into(),
    });
    Ok(())
}

async fn move_interest(
    fixture: &Fixture,
    by: &str,
    interest: &str,
    body: Value,
) -> anyhow::Result<()> {
    let id = &fixture
        .interests
        .iter()
        .find(|one| one.name == interest)
        .with_context(|| format!("no fixture interest {interest}"))?
        .id;
    let response = fixture
        .client(by)
        .post(&format!("/api/v1/interests/{id}/state"), &body)
        .await?;
    expect_status(
        response,
        200,
        &format!("move interest {interest} with {body}"),
    )
    .await?;
    Ok(())
}

/// Signs every demo user in once and finds the organisations.
async fn sign_in_everyone(app: &TestApp) -> anyhow::Result<Fixture> {
    let mut users = Vec::new();
    let mut employers = Vec::new();
    for (key, role, org) in USERS {
        let client = app.sign_in(key).await?;
        let me = client.get_json("/api/v1/me").await?;
        let user = &me["user"];
        anyhow::ensure!(
            user["roles"] == json!([role]),
            "{key} should hold only the role {role}: {me}"
        );
        let organisation = user["organisation_id"]
            .as_str()
            .with_context(|| format!("{key} has no organisation: {me}"))?;
        employers.push((key, org, organisation.to_owned()));
        users.push(User {
            key,
            role,
            org,
            client,
        });
    }

    let admin = users
        .iter()
        .find(|user| user.org == Org::Operator)
        .map(|user| user.client.clone())
        .context("no platform operator among the demo users")?;
    let listed = admin.get_json("/api/v1/admin/organisations").await?;
    let find = |name: &str| {
        listed
            .as_array()
            .and_then(|all| all.iter().find(|org| org["name"] == name))
            .cloned()
            .with_context(|| format!("no organisation {name:?} in {listed}"))
    };
    let council = find("Northshire Council")?;
    let agency = find("Harbour Adoption Agency")?;
    let created = admin
        .post(
            "/api/v1/admin/organisations",
            &json!({ "name": "Fenwick Fostering", "kind": "independent_fostering_provider" }),
        )
        .await?;
    let third = expect_status(created, 201, "create the third organisation").await?;

    let mut organisations = BTreeMap::new();
    organisations.insert(Org::Council, id_of(&council, "council")?);
    organisations.insert(Org::Agency, id_of(&agency, "agency")?);
    organisations.insert(Org::Third, id_of(&third, "third organisation")?);
    for (key, org, id) in employers {
        let expected = organisations.entry(org).or_insert_with(|| id.clone());
        anyhow::ensure!(
            *expected == id,
            "{key} should belong to {org:?} ({expected}), not {id}"
        );
    }
    Ok(Fixture {
        users,
        organisations,
        cases: Vec::new(),
        interests: Vec::new(),
        council_terms: council,
    })
}

/// Builds the fixture. Next to the demo cases it makes cases in every
/// publication state, an interest moved to placed, and a discussion whose
/// child case was then unpublished. It also puts a probe family case of
/// each organisation at its limit, and transfers two council cases to the
/// agency during their discussions.
async fn build_fixture(app: &TestApp) -> anyhow::Result<Fixture> {
    let mut fixture = sign_in_everyone(app).await?;
    let council_worker = fixture.client("la_practitioner").clone();
    let agency_worker = fixture.client("va_practitioner").clone();
    let demo = [
        (
            "tyler",
            Kind::Child,
            Org::Council,
            "Tyler",
            Visibility::Draft,
        ),
        (
            "maisie_jack",
            Kind::Child,
            Org::Council,
            "Maisie, Jack",
            Visibility::All,
        ),
        (
            "adeyemi",
            Kind::Family,
            Org::Agency,
            "The Adeyemi family",
            Visibility::All,
        ),
        (
            "price",
            Kind::Family,
            Org::Agency,
            "The Price family",
            Visibility::Named(vec![Org::Council]),
        ),
    ];
    for (name, kind, owner, title, visibility) in demo {
        let client = if owner == Org::Council {
            &council_worker
        } else {
            &agency_worker
        };
        let kind_name = if kind == Kind::Child {
            "child"
        } else {
            "family"
        };
        fixture.cases.push(Case {
            name,
            id: client.own_case(kind_name, title).await?,
            kind,
            owner,
            visibility,
            anonymous: false,
            placed: false,
            transferred_from: None,
        });
    }

    let named_agency = Visibility::Named(vec![Org::Agency]);
    let named_council = Visibility::Named(vec![Org::Council]);
    let named_third = Visibility::Named(vec![Org::Third]);
    let steps: [(&str, &'static str, Value, Visibility, bool); 10] = [
        (
            "la_practitioner",
            "named_to_agency",
            child_profile("Ellie", 6),
            named_agency,
            false,
        ),
        (
            "la_practitioner",
            "named_to_third",
            child_profile("Noah", 3),
            named_third,
            false,
        ),
        (
            "la_practitioner",
            "anonymous_child",
            child_profile("Ruby", 5),
            Visibility::All,
            true,
        ),
        (
            "va_practitioner",
            "anonymous_family",
            family_profile("The Okafor family"),
            named_council,
            true,
        ),
        (
            "la_practitioner",
            "placed",
            child_profile("Leo", 2),
            Visibility::All,
            false,
        ),
        (
            "la_manager",
            "discussed",
            child_profile("Amira", 8),
            Visibility::All,
            false,
        ),
        (
            "la_practitioner",
            "transferred",
            child_profile("Oscar", 4),
            Visibility::All,
            false,
        ),
        (
            "la_practitioner",
            "transferred_with_council_family",
            child_profile("Isla", 7),
            Visibility::Draft,
            false,
        ),
        (
            "va_practitioner",
            "agency_probe_family",
            family_profile("The Walsh family"),
            Visibility::Draft,
            false,
        ),
        (
            "la_practitioner",
            "council_probe_family",
            family_profile("The Bennett family"),
            Visibility::Draft,
            false,
        ),
    ];
    for (creator, name, profile, visibility, anonymous) in steps {
        create_case(&mut fixture, creator, name, profile, visibility, anonymous).await?;
    }

    // The agency's probe family first has an interest that ends in a
    // placement, then the open one that puts it at its limit.
    express(
        &mut fixture,
        "va_practitioner",
        "placement",
        "placed",
        "la_practitioner",
        "agency_probe_family",
    )
    .await?;
    // Either side takes an interest on; linking and placing are the child
    // organisation's decisions.
    move_interest(
        &fixture,
        "va_practitioner",
        "placement",
        json!({ "state": "progressing" }),
    )
    .await?;
    move_interest(
        &fixture,
        "la_practitioner",
        "placement",
        json!({ "state": "linked" }),
    )
    .await?;
    move_interest(
        &fixture,
        "la_practitioner",
        "placement",
        json!({ "state": "placed", "reason": "placement_made" }),
    )
    .await?;
    set_placed(&mut fixture, "placed");

    express(
        &mut fixture,
        "va_practitioner",
        "discussion",
        "discussed",
        "la_manager",
        "agency_probe_family",
    )
    .await?;
    let discussed = fixture.case("discussed").id.clone();
    publish(
        &fixture,
        "la_manager",
        &discussed,
        &Visibility::Draft,
        false,
    )
    .await?;
    set_visibility(&mut fixture, "discussed", Visibility::Draft);

    // The council's probe family reaches its limit with an interest in a
    // council child that then moves to the agency. The council's workers
    // keep that discussion, because its family case stays with them.
    express(
        &mut fixture,
        "la_practitioner",
        "council_limit",
        "transferred_with_council_family",
        "la_practitioner",
        "council_probe_family",
    )
    .await?;
    transfer_to_agency(&mut fixture, "transferred_with_council_family").await?;

    express(
        &mut fixture,
        "va_manager",
        "before_transfer",
        "transferred",
        "la_practitioner",
        "price",
    )
    .await?;
    transfer_to_agency(&mut fixture, "transferred").await?;

    Ok(fixture)
}

fn set_placed(fixture: &mut Fixture, name: &str) {
    if let Some(case) = fixture.cases.iter_mut().find(|case| case.name == name) {
        case.placed = true;
    }
}

fn set_visibility(fixture: &mut Fixture, name: &str, visibility: Visibility) {
    if let Some(case) = fixture.cases.iter_mut().find(|case| case.name == name) {
        case.visibility = visibility;
    }
}

/// Transfers a council case to the agency. The case becomes a draft of
/// the agency, and the agency's managers join every discussion about it.
/// The council's members leave each discussion unless its other case is
/// also the council's.
async fn transfer_to_agency(fixture: &mut Fixture, name: &str) -> anyhow::Result<()> {
    let id = fixture.case(name).id.clone();
    let body = json!({
        "organisation_id": fixture.organisation_id(Org::Agency),
        "approval_reference": "Panel minute 2026/31",
        "approved_on": (Utc::now() - Duration::days(1)).date_naive(),
    });
    let response = fixture
        .client("la_manager")
        .post(&format!("/api/v1/cases/{id}/transfer"), &body)
        .await?;
    expect_status(response, 200, &format!("transfer case {name}")).await?;

    let agency_managers: Vec<&'static str> = fixture
        .users
        .iter()
        .filter(|user| user.org == Org::Agency && user.role == "manager")
        .map(|user| user.key)
        .collect();
    let council_users: Vec<&'static str> = fixture
        .users
        .iter()
        .filter(|user| user.org == Org::Council)
        .map(|user| user.key)
        .collect();
    let council_cases: Vec<&'static str> = fixture
        .cases
        .iter()
        .filter(|case| case.owner == Org::Council && case.name != name)
        .map(|case| case.name)
        .collect();
    for discussion in &mut fixture.interests {
        let other = if discussion.child == name {
            discussion.family
        } else if discussion.family == name {
            discussion.child
        } else {
            continue;
        };
        if !council_cases.contains(&other) {
            discussion
                .members
                .retain(|member| !council_users.contains(member));
        }
        discussion.members.extend(agency_managers.iter().copied());
    }
    if let Some(case) = fixture.cases.iter_mut().find(|case| case.name == name) {
        case.owner = Org::Agency;
        case.visibility = Visibility::Draft;
        case.transferred_from = Some(Org::Council);
    }
    Ok(())
}

/// A request as sent.
enum Request {
    Get(String),
    Put(String, Value),
    Post(String, Value),
}

/// One request of one user, with the row it checks.
struct Probe {
    key: Key,
    user: usize,
    /// What was probed, for messages.
    subject: String,
    route: Route,
    /// The kind of the case probed, which the allowed response of some
    /// routes depends on.
    kind: Kind,
    request: Request,
}

fn is_worker(user: &User) -> bool {
    matches!(user.role, "manager" | "practitioner")
}

/// Returns the licence state of an organisation during a phase, in which
/// only the council's licence leaves `active`.
fn licence_in(org: Org, phase: Licence) -> Licence {
    if org == Org::Council {
        phase
    } else {
        Licence::Active
    }
}

/// Builds the request of a probe. `id` is a case's id, or an interest's for
/// the interest state route. Each writing body passes authorization and
/// fails a later check.
fn case_request(
    fixture: &Fixture,
    user: &User,
    route: Route,
    id: &str,
    kind: Kind,
    owner: Org,
) -> Request {
    let path = format!("/api/v1/cases/{id}");
    match route {
        Route::Read => Request::Get(path),
        Route::Matches => Request::Get(format!("{path}/matches")),
        Route::Edit => {
            let wrong_kind = match kind {
                Kind::Child => family_profile("The Probe family"),
                Kind::Family => child_profile("Probe", 5),
            };
            Request::Put(path, wrong_kind)
        }
        Route::Publish => Request::Put(
            format!("{path}/publication"),
            json!({ "visibility": "nowhere", "anonymous": false }),
        ),
        Route::Transfer => Request::Post(
            format!("{path}/transfer"),
            json!({
                "organisation_id": fixture.organisation_id(owner),
                "approval_reference": "Probe",
                "approved_on": "2026-01-05",
            }),
        ),
        Route::Interest => Request::Post(
            format!("{path}/interests"),
            json!({ "family_case_id": fixture.probe_family(user.org).id }),
        ),
        Route::InterestState => Request::Post(
            format!("/api/v1/interests/{id}/state"),
            json!({ "state": "bogus" }),
        ),
        Route::MatchPair => Request::Get(format!("{path}/matches/{id}")),
        Route::MediaAdd => Request::Post(format!("{path}/media?slot=bogus"), json!({})),
        Route::FamilyInvite => Request::Post(
            format!("{path}/family-invitation"),
            json!({ "email": "not an email", "display_name": "Probe" }),
        ),
    }
}

/// Lists the probes of one phase. With every licence active, every user
/// probes every case, interest and a missing id. The other phases probe
/// [`LICENCE_CASES`] only, with the probes that the council's licence
/// bears on: those of the council's users, and those of the agency's
/// workers on the council's cases. The agency's family members and the
/// operator are left out there, because they read no case in any licence
/// state and their own licence does not change.
fn probes(fixture: &Fixture, phase: Licence) -> Vec<Probe> {
    let mut probes = Vec::new();
    let in_phase = |user: &User, case: &Case| {
        let bears_on = user.org == Org::Council
            || (case.owner == Org::Council && user.org == Org::Agency && is_worker(user));
        phase == Licence::Active || (LICENCE_CASES.contains(&case.name) && bears_on)
    };
    let key = |user: &User, relation: &str, state: &str, route: Route, owner: &str| Key {
        role: user.role.to_owned(),
        relation: relation.to_owned(),
        state: state.to_owned(),
        route: route.name().to_owned(),
        caller_licence: licence_in(user.org, phase).name().to_owned(),
        owner_licence: owner.to_owned(),
    };
    for (index, user) in fixture.users.iter().enumerate() {
        for case in &fixture.cases {
            if !in_phase(user, case) {
                continue;
            }
            let members = fixture.case_members(case);
            let relation = relation(user, case, &members);
            let owner = licence_in(case.owner, phase).name();
            for route in Route::ALL {
                // The interest route takes a child case, and the interest
                // state route an interest, probed below.
                let skip = route == Route::InterestState
                    || (route == Route::Interest && case.kind == Kind::Family);
                if skip {
                    continue;
                }
                probes.push(Probe {
                    key: key(user, relation, state(case), route, owner),
                    user: index,
                    subject: format!("case {}", case.name),
                    route,
                    kind: case.kind,
                    request: case_request(fixture, user, route, &case.id, case.kind, case.owner),
                });
            }
        }
        for interest in &fixture.interests {
            let child = fixture.case(interest.child);
            if !in_phase(user, child) {
                continue;
            }
            let relation = relation(user, child, &interest.members);
            let owner = licence_in(child.owner, phase).name();
            let route = Route::InterestState;
            probes.push(Probe {
                key: key(user, relation, state(child), route, owner),
                user: index,
                subject: format!("interest {} in case {}", interest.name, child.name),
                route,
                kind: Kind::Child,
                request: case_request(fixture, user, route, &interest.id, Kind::Child, child.owner),
            });
        }
        if phase == Licence::Active || user.org == Org::Council {
            let missing = uuid::Uuid::now_v7().to_string();
            for route in Route::ALL {
                probes.push(Probe {
                    key: key(user, "none", "missing", route, "-"),
                    user: index,
                    subject: "a missing id".to_owned(),
                    route,
                    kind: Kind::Child,
                    request: case_request(
                        fixture,
                        user,
                        route,
                        &missing,
                        Kind::Child,
                        Org::Council,
                    ),
                });
            }
        }
    }
    probes
}

async fn send(client: &Client, request: &Request) -> anyhow::Result<ResponseSummary> {
    let response = match request {
        Request::Get(path) => client.get(path).await?,
        Request::Put(path, body) => client.put(path, body).await?,
        Request::Post(path, body) => client.post(path, body).await?,
    };
    let (status, body) = status_and_json(response).await?;
    Ok(ResponseSummary {
        status,
        code: body["code"].as_str().unwrap_or_default().to_owned(),
        field: body["field"].as_str().unwrap_or_default().to_owned(),
    })
}

/// Sends every probe, a few at a time, and returns each with its response.
async fn run_probes(
    fixture: &Fixture,
    probes: Vec<Probe>,
) -> anyhow::Result<Vec<(Probe, ResponseSummary)>> {
    let responses: Vec<anyhow::Result<ResponseSummary>> = futures_util::stream::iter(probes.iter())
        .map(|probe| send(&fixture.users[probe.user].client, &probe.request))
        .buffered(PARALLEL_PROBES)
        .collect()
        .await;
    probes
        .into_iter()
        .zip(responses)
        .map(|(probe, response)| Ok((probe, response?)))
        .collect()
}

/// Sets the council's licence to a state by moving its dates, keeping its
/// other terms. `Active` restores the dates the council had at the start.
async fn set_council_licence(fixture: &Fixture, phase: Licence) -> anyhow::Result<()> {
    let now = Utc::now();
    let (starts, expires) = match phase {
        Licence::Active => (
            fixture.council_terms["licence_starts_at"].clone(),
            fixture.council_terms["licence_expires_at"].clone(),
        ),
        Licence::ReadOnly => (Value::Null, json!(now - Duration::days(30))),
        Licence::Ended => (Value::Null, json!(now - Duration::days(200))),
        Licence::NotStarted => (
            json!(now + Duration::days(30)),
            json!(now + Duration::days(400)),
        ),
    };
    let terms = &fixture.council_terms;
    let body = json!({
        "name": terms["name"],
        "licence_starts_at": starts,
        "licence_expires_at": expires,
        "retention_days": terms["retention_days"],
        "families_edit_profiles": terms["families_edit_profiles"],
    });
    let path = format!(
        "/api/v1/admin/organisations/{}",
        fixture.organisation_id(Org::Council)
    );
    let response = fixture.client("platform_admin").put(&path, &body).await?;
    let changed = expect_status(
        response,
        200,
        &format!("set the council's licence to {phase:?}"),
    )
    .await?;
    anyhow::ensure!(
        changed["licence"] == phase.name(),
        "the council's licence should be {} after {body}: {changed}",
        phase.name()
    );
    Ok(())
}

/// Reads every case as a manager of its organisation, both organisations'
/// interests and every organisation's terms, to show that the probes
/// changed nothing.
async fn snapshot(fixture: &Fixture) -> anyhow::Result<Value> {
    let mut cases = serde_json::Map::new();
    for case in &fixture.cases {
        let reader = match case.owner {
            Org::Council => "la_manager",
            _ => "va_manager",
        };
        let view = fixture
            .client(reader)
            .get_json(&format!("/api/v1/cases/{}", case.id))
            .await?;
        cases.insert(case.name.to_owned(), view);
    }
    let organisations = fixture
        .client("platform_admin")
        .get_json("/api/v1/admin/organisations")
        .await?;
    Ok(json!({
        "cases": cases,
        "council_interests": fixture.client("la_manager").get_json("/api/v1/interests").await?,
        "agency_interests": fixture.client("va_manager").get_json("/api/v1/interests").await?,
        "organisations": organisations,
    }))
}

/// Compares every response with its row, and returns one message for each
/// wrong response, each probed combination without a row and each row that
/// no probe matched.
fn compare(
    rows: &BTreeMap<Key, Row>,
    fixture: &Fixture,
    responses: &[(Probe, ResponseSummary)],
) -> Vec<String> {
    let mut wrong: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut unlisted: BTreeMap<&Key, Vec<String>> = BTreeMap::new();
    let mut used = BTreeSet::new();
    for (probe, response) in responses {
        let caller_on_subject = format!("{} on {}", fixture.users[probe.user].key, probe.subject);
        let Some(row) = rows.get(&probe.key) else {
            unlisted
                .entry(&probe.key)
                .or_default()
                .push(caller_on_subject);
            continue;
        };
        used.insert(&probe.key);
        let expected = row.outcome.expected_response(probe.route, probe.kind);
        if *response != expected {
            wrong.entry(row.line).or_default().push(format!(
                "{caller_on_subject}: got {response}, expected {expected}"
            ));
        }
    }
    let mut problems = Vec::new();
    for (line, failures) in wrong {
        let text = rows
            .values()
            .find(|row| row.line == line)
            .map_or("", |row| row.text.as_str());
        problems.push(format!(
            "{MATRIX_PATH}:{line}: `{text}`\n    {}",
            failures.join("\n    ")
        ));
    }
    for (key, probed) in unlisted {
        problems.push(format!(
            "no row for `{key}`, probed by {}",
            probed.join(", ")
        ));
    }
    let mut unused: Vec<&Row> = rows
        .iter()
        .filter(|(key, _)| !used.contains(key))
        .map(|(_, row)| row)
        .collect();
    unused.sort_by_key(|row| row.line);
    for row in unused {
        problems.push(format!(
            "{MATRIX_PATH}:{}: `{}` matches no probe",
            row.line, row.text
        ));
    }
    problems
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn family_finding_authorization_matrix() -> anyhow::Result<()> {
    let rows = match parse_matrix(MATRIX) {
        Ok(rows) => rows,
        Err(errors) => panic!("{MATRIX_PATH} does not parse:\n{}", errors.join("\n")),
    };
    let app = TestApp::spawn_with(AppOptions {
        env: vec![(
            "KINLINK__FAMILY_FINDING__MAX_OPEN_INTERESTS".to_owned(),
            MAX_OPEN_INTERESTS.to_owned(),
        )],
        ..AppOptions::default()
    })
    .await?;
    let fixture = build_fixture(&app).await?;
    let before = snapshot(&fixture).await?;

    let mut responses = Vec::new();
    for phase in [
        Licence::Active,
        Licence::ReadOnly,
        Licence::Ended,
        Licence::NotStarted,
    ] {
        if phase != Licence::Active {
            set_council_licence(&fixture, phase).await?;
        }
        responses.extend(run_probes(&fixture, probes(&fixture, phase)).await?);
    }
    set_council_licence(&fixture, Licence::Active).await?;

    let problems = compare(&rows, &fixture, &responses);
    assert!(
        problems.is_empty(),
        "{} problems in the authorization matrix ({} rows, {} probes):\n{}",
        problems.len(),
        rows.len(),
        responses.len(),
        problems.join("\n")
    );

    let after = snapshot(&fixture).await?;
    assert_eq!(
        before, after,
        "the probes changed a case, an interest or a licence"
    );

    eprintln!(
        "checked {} rows of {MATRIX_PATH} with {} probes",
        rows.len(),
        responses.len()
    );
    Ok(())
}
