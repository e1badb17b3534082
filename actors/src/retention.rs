//! The retention supervisor: a supervised actor per node that runs the
//! daily retention sweep.
//!
//! Every poll it finds the latest sweep due (01:30 in Europe/London by
//! default, see [`kinlink_core::retention::latest_sweep`]) and claims that
//! local date in the store's ledger. Only the node whose claim succeeds
//! sweeps, so a day is swept once across nodes, restarts and clock
//! changes. A node that was down at the sweep's time sweeps when it next
//! polls that day. A sweep applies each rule in batches until nothing is
//! due. A sweep stopped half way leaves whole rows, so the next day's
//! sweep finishes the work. The clock is injected so tests can move time.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use chrono::{DateTime, NaiveTime, Utc};
use kinlink_core::ConversationId;
use kinlink_core::community::retention::inactive_cutoff;
use kinlink_core::retention::{FINAL_STEP_AFTER, latest_sweep, technical_deletion_cutoff};
use kinlink_core::{OrganisationId, UserId};
use kinlink_media::blob::BlobStore;
use kinlink_store::audit::AuditRecord;
use kinlink_store::case_retention::DueCase;
use kinlink_store::deletion_log::{DeletedKind, Deletion, DeletionLog};
use kinlink_store::retention::TechnicalDeleted;
use kinlink_store::{Store, StoreError};
use tracing::{Instrument, error, info, info_span, warn};

use crate::Causes;
use crate::broker::Broker;
use crate::events::Event;

/// The source of the time now.
pub trait Clock: Send + Sync + 'static {
    /// Returns the time now.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The settings of one node's sweeps.
#[derive(Clone, Debug)]
pub struct SweepSettings {
    /// The local time of day of the sweep in Europe/London.
    pub time: NaiveTime,
    /// The node's id, recorded with the sweeps it runs.
    pub node_id: String,
    /// The maximum number of rows of one kind deleted in one statement.
    pub batch_size: u64,
    /// The log that each erasure is written to before it is made, for
    /// restores.
    pub deletion_log: Option<DeletionLog>,
}

/// The counts of what one sweep deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Technical and usage data deleted a year after it was collected.
    pub technical: TechnicalDeleted,
    /// Community profiles of members who have not interacted for three
    /// years.
    pub profiles: MarkCounts,
    /// Family-finding cases: marked when idle, anonymised 14 days later.
    pub cases: MarkCounts,
    /// User records: community-only accounts marked after three years
    /// without a sign-in, and records marked 14 days before, now wiped down
    /// to their tombstones.
    pub users: MarkCounts,
    /// Key recoveries that lapsed and were closed, dropping any key sealed
    /// for their expired link.
    pub recoveries_expired: u64,
}

/// The counts of the records a two-step rule marked, unmarked and deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MarkCounts {
    pub marked: usize,
    /// Marked before, and no longer due: the member interacted again.
    pub unmarked: usize,
    /// Deleted, or for family-finding cases, anonymised.
    pub deleted: usize,
}

impl SweepReport {
    /// Returns the report as JSON, for the ledger and the audit trail.
    pub fn to_json(&self) -> serde_json::Value {
        let technical = &self.technical;
        let profiles = &self.profiles;
        serde_json::json!({
            "technical_data": {
                "sign_in_failures": technical.sign_in_failures,
                "revoked_sessions": technical.revoked_sessions,
                "emails": technical.emails,
                "key_recoveries": technical.key_recoveries,
            },
            "social_profile": {
                "marked": profiles.marked,
                "unmarked": profiles.unmarked,
                "deleted": profiles.deleted,
            },
            "family_finding_case": {
                "marked": self.cases.marked,
                "anonymised": self.cases.deleted,
            },
            "user_record": { "marked": self.users.marked, "erased": self.users.deleted },
            "key_recoveries_expired": self.recoveries_expired,
        })
    }
}

/// Writes one audit row of a retention action on the platform's trail.
async fn audit(
    store: &Store,
    action: &'static str,
    subject_kind: &'static str,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    store
        .audit(AuditRecord {
            actor_id: None,
            organisation_id: None,
            action,
            subject_kind,
            subject_id: None,
            detail,
            at: now,
        })
        .await
}

/// Writes one audit row of a retention action on a case, on its
/// organisation's trail when it has one.
async fn audit_on(
    store: &Store,
    organisation_id: Option<OrganisationId>,
    subject_id: Option<uuid::Uuid>,
    action: &'static str,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    store
        .audit(AuditRecord {
            actor_id: None,
            organisation_id,
            action,
            subject_kind: "case",
            subject_id,
            detail,
            at: now,
        })
        .await
}

/// Applies the social profile rule: a profile is marked three years after
/// its member's last interaction, unmarked if the member interacts again,
/// and deleted with its picture 14 days after the marking. Each batch is
/// audited with the members' ids.
async fn sweep_profiles(
    store: &Store,
    blobs: &Arc<dyn BlobStore>,
    batch_size: u64,
    now: DateTime<Utc>,
) -> Result<MarkCounts, StoreError> {
    let cutoff = inactive_cutoff(now);
    let mut counts = MarkCounts::default();
    loop {
        let unmarked = store.unmark_active_profiles(cutoff, batch_size).await?;
        if unmarked.is_empty() {
            break;
        }
        counts.unmarked += unmarked.len();
        let detail = serde_json::json!({ "rule": "social_profile", "members": unmarked });
        audit(
            store,
            "retention.unmarked",
            "community_profile",
            detail,
            now,
        )
        .await?;
    }
    loop {
        let marked = store.mark_idle_profiles(cutoff, now, batch_size).await?;
        if marked.is_empty() {
            break;
        }
        counts.marked += marked.len();
        let detail = serde_json::json!({
            "rule": "social_profile",
            "members": marked,
            "final_step_after": now + FINAL_STEP_AFTER,
        });
        audit(store, "retention.marked", "community_profile", detail, now).await?;
    }
    let marked_before = now - FINAL_STEP_AFTER;
    loop {
        let due = store
            .profiles_marked_before(marked_before, Some(batch_size))
            .await?;
        if due.is_empty() {
            break;
        }
        let mut deleted: Vec<UserId> = Vec::new();
        for member in due {
            let Some(pictures) = store.delete_marked_profile(member, marked_before).await? else {
                continue;
            };
            delete_blobs(blobs, pictures).await;
            deleted.push(member);
        }
        counts.deleted += deleted.len();
        let detail = serde_json::json!({ "rule": "social_profile", "members": deleted });
        audit(store, "retention.deleted", "community_profile", detail, now).await?;
    }
    Ok(counts)
}

/// Publishes a member removal for every member of the discussions about
/// each case, so sockets stop showing a case marked to go at once. Returns
/// each discussion and member notified, so the caller can drop them from
/// live calls too. A failure is logged, because the store hides the
/// discussions whatever the sockets received.
pub async fn hide_discussions(
    store: &Store,
    broker: Option<&Broker>,
    cases: &[uuid::Uuid],
) -> Vec<(ConversationId, UserId)> {
    let mut told = Vec::new();
    let Some(broker) = broker else {
        return told;
    };
    for case in cases {
        let discussions = match store.case_discussions(*case).await {
            Ok(discussions) => discussions,
            Err(failure) => {
                warn!(error = %Causes(&failure), %case, "listing a marked case's discussions failed");
                continue;
            }
        };
        for discussion in discussions {
            let conversation_id = ConversationId(discussion);
            let members = match store.member_ids(conversation_id).await {
                Ok(members) => members,
                Err(failure) => {
                    warn!(error = %Causes(&failure), %case, "listing a discussion's members failed");
                    continue;
                }
            };
            for user_id in members {
                broker
                    .publish(Event::MemberRemoved {
                        conversation_id,
                        user_id,
                    })
                    .await;
                told.push((conversation_id, user_id));
            }
        }
    }
    told
}

/// Applies the family-finding case rule. A case idle for its
/// organisation's retention period, or since three months after its
/// licence expired, is marked, which hides it and its discussions.
/// 14 days after the marking it is anonymised, and everything else about
/// it is deleted, files included. Held cases are skipped, and each case is
/// audited on its organisation's trail.
async fn sweep_cases(
    store: &Store,
    blobs: &Arc<dyn BlobStore>,
    broker: Option<&Broker>,
    deletion_log: Option<&DeletionLog>,
    batch_size: u64,
    now: DateTime<Utc>,
) -> Result<MarkCounts, StoreError> {
    let mut counts = MarkCounts::default();
    loop {
        let marked = store.mark_idle_cases(now, batch_size).await?;
        if marked.is_empty() {
            break;
        }
        counts.marked += marked.len();
        for DueCase { id, reason } in &marked {
            let detail = serde_json::json!({
                "rule": "family_finding_case",
                "reason": reason.as_str(),
                "final_step_after": now + FINAL_STEP_AFTER,
            });
            audit_case(store, *id, "retention.marked", detail, now).await?;
        }
        let ids: Vec<uuid::Uuid> = marked.iter().map(|case| case.id).collect();
        // NOTE: the sweep has no call registry, so a live call in a
        // discussion of a case marked here is not dropped at once.
        hide_discussions(store, broker, &ids).await;
    }
    let marked_before = now - FINAL_STEP_AFTER;
    loop {
        let due = store
            .cases_marked_before(marked_before, Some(batch_size))
            .await?;
        if due.is_empty() {
            break;
        }
        let mut anonymised = Vec::new();
        for id in due {
            let Some(case) = store.case(id).await? else {
                continue;
            };
            log_deletion(deletion_log, DeletedKind::Case, id, now)?;
            let Some(removed) = store.anonymise_case(id, marked_before).await? else {
                continue;
            };
            delete_blobs(blobs, removed.blobs).await;
            let detail = serde_json::json!({
                "rule": "family_finding_case",
                "discussions_deleted": removed.discussions.len(),
            });
            audit_on(
                store,
                Some(OrganisationId(case.organisation_id)),
                Some(id),
                "retention.anonymised",
                detail,
                now,
            )
            .await?;
            anonymised.push(id);
        }
        counts.deleted += anonymised.len();
        if anonymised.is_empty() {
            break;
        }
    }
    Ok(counts)
}

/// Appends one line to the deletion log, when there is one. Its time is
/// the later of the clock and the sweep's instant: a sweep that runs late
/// applies its rules as of its due instant, but a backup taken meanwhile is
/// older than the erasure and must replay it.
pub fn log_deletion(
    log: Option<&DeletionLog>,
    kind: DeletedKind,
    id: uuid::Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    match log {
        Some(log) => log.record(&Deletion {
            at: Utc::now().max(now),
            kind,
            id,
        }),
        None => Ok(()),
    }
}

/// Applies the user record rule. A community-only account that has not
/// signed in for three years is marked, which stops its sign-in. A user
/// record marked 14 days ago or more, by this rule or by an agreed
/// erasure request, is logged, then wiped down to its tombstone with
/// everything else that names the user, stored files included. Each step
/// is audited on the platform's trail.
async fn sweep_users(
    store: &Store,
    blobs: &Arc<dyn BlobStore>,
    deletion_log: Option<&DeletionLog>,
    batch_size: u64,
    now: DateTime<Utc>,
) -> Result<MarkCounts, StoreError> {
    let mut counts = MarkCounts::default();
    loop {
        let marked = store
            .mark_inactive_community_users(inactive_cutoff(now), now, batch_size)
            .await?;
        if marked.is_empty() {
            break;
        }
        for id in &marked {
            log_deletion(deletion_log, DeletedKind::UserMarked, id.0, now)?;
        }
        counts.marked += marked.len();
        let detail = serde_json::json!({
            "rule": "user_record",
            "reason": kinlink_core::user_erasure::INACTIVE,
            "users": marked,
            "final_step_after": now + FINAL_STEP_AFTER,
        });
        audit(store, "retention.marked", "user", detail, now).await?;
    }
    loop {
        let due = store
            .users_marked_before(now - FINAL_STEP_AFTER, Some(batch_size))
            .await?;
        if due.is_empty() {
            break;
        }
        for id in due {
            log_deletion(deletion_log, DeletedKind::User, id.0, now)?;
            let Some(files) = store.erase_user(id, now).await? else {
                continue;
            };
            delete_blobs(blobs, files).await;
            store
                .audit(AuditRecord {
                    actor_id: None,
                    organisation_id: None,
                    action: "user.erased",
                    subject_kind: "user",
                    subject_id: Some(id.0),
                    detail: serde_json::json!({ "rule": "user_record" }),
                    at: now,
                })
                .await?;
            counts.deleted += 1;
        }
    }
    Ok(counts)
}

/// Writes the audit row of a retention action on a case, on its
/// organisation's trail.
async fn audit_case(
    store: &Store,
    id: uuid::Uuid,
    action: &'static str,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let organisation = store
        .case(id)
        .await?
        .map(|case| OrganisationId(case.organisation_id));
    audit_on(store, organisation, Some(id), action, detail, now).await
}

/// Deletes stored files whose rows are gone. A failure is logged: the
/// rows no longer point to them, and nothing reads them any more.
async fn delete_blobs(blobs: &Arc<dyn BlobStore>, ids: Vec<uuid::Uuid>) {
    let blobs = Arc::clone(blobs);
    let deleted = actix_web::rt::task::spawn_blocking(move || {
        ids.into_iter().try_for_each(|id| blobs.delete(id))
    })
    .await;
    match deleted {
        Ok(Ok(())) => {}
        Ok(Err(failure)) => {
            error!(error = %Causes(&failure), "deleting a retained file failed");
        }
        Err(failure) => error!(error = %failure, "deleting a retained file failed"),
    }
}

/// Applies every retention rule as of `now`, each in batches until nothing
/// it covers is due, and audits what it marked and deleted.
pub async fn sweep(
    store: &Store,
    blobs: &Arc<dyn BlobStore>,
    broker: Option<&Broker>,
    deletion_log: Option<&DeletionLog>,
    batch_size: u64,
    now: DateTime<Utc>,
) -> Result<SweepReport, StoreError> {
    let cutoff = technical_deletion_cutoff(now);
    let mut technical = TechnicalDeleted::default();
    loop {
        let batch = store
            .delete_technical_batch(cutoff, batch_size.max(1))
            .await?;
        technical.add(batch);
        if batch.total() == 0 {
            break;
        }
    }
    if technical.total() > 0 {
        let detail = serde_json::json!({
            "rule": "technical_data",
            "sign_in_failures": technical.sign_in_failures,
            "revoked_sessions": technical.revoked_sessions,
            "emails": technical.emails,
            "key_recoveries": technical.key_recoveries,
            "collected_before": cutoff,
        });
        audit(store, "retention.deleted", "technical_data", detail, now).await?;
    }
    let profiles = sweep_profiles(store, blobs, batch_size.max(1), now).await?;
    let cases = sweep_cases(store, blobs, broker, deletion_log, batch_size.max(1), now).await?;
    let users = sweep_users(store, blobs, deletion_log, batch_size.max(1), now).await?;
    let recoveries_expired = store.expire_lapsed_recoveries(now).await?;
    if recoveries_expired > 0 {
        let detail = serde_json::json!({ "recoveries": recoveries_expired });
        audit(store, "key_recovery.expired", "key_recovery", detail, now).await?;
    }
    Ok(SweepReport {
        technical,
        profiles,
        cases,
        users,
        recoveries_expired,
    })
}

/// Runs the latest sweep due at `now` unless a node has run it. Returns its
/// report when this call swept. The rules apply as of the sweep's due
/// instant, whenever the node gets to it, so the sweep does what the plan
/// for its date shows.
pub async fn sweep_if_due(
    store: &Store,
    blobs: &Arc<dyn BlobStore>,
    broker: Option<&Broker>,
    settings: &SweepSettings,
    now: DateTime<Utc>,
) -> Result<Option<SweepReport>, StoreError> {
    let (due_at, day) = latest_sweep(settings.time, now);
    if !store
        .claim_sweep(day, due_at, &settings.node_id, now)
        .await?
    {
        return Ok(None);
    }
    info!(day = %day, "retention sweep started");
    let started = std::time::Instant::now();
    let report = sweep(
        store,
        blobs,
        broker,
        settings.deletion_log.as_ref(),
        settings.batch_size,
        due_at,
    )
    .await?;
    let took = chrono::Duration::from_std(started.elapsed()).unwrap_or_default();
    store
        .finish_sweep(day, report.to_json().to_string(), now + took)
        .await?;
    info!(
        day = %day,
        technical_rows = report.technical.total(),
        profiles_marked = report.profiles.marked,
        profiles_deleted = report.profiles.deleted,
        cases_marked = report.cases.marked,
        cases_anonymised = report.cases.deleted,
        users_marked = report.users.marked,
        users_erased = report.users.deleted,
        "retention sweep finished"
    );
    Ok(Some(report))
}

/// The actions a sweep at one instant would take, rule by rule.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The instant of the sweep.
    pub at: DateTime<Utc>,
    /// Technical data collected before this instant goes.
    pub technical_cutoff: DateTime<Utc>,
    pub technical: TechnicalDeleted,
    /// Profiles of members who last interacted at or before this instant
    /// are marked.
    pub profile_cutoff: DateTime<Utc>,
    pub profiles_to_unmark: Vec<UserId>,
    pub profiles_to_mark: Vec<UserId>,
    pub profiles_to_delete: Vec<UserId>,
    pub cases_to_mark: Vec<DueCase>,
    pub cases_to_anonymise: Vec<uuid::Uuid>,
    /// Held cases that the rule would otherwise mark. A held case is never
    /// marked: a hold lifts the mark.
    pub cases_held: Vec<uuid::Uuid>,
    /// Community-only accounts that have not signed in since three years
    /// before the sweep.
    pub users_to_mark: Vec<UserId>,
    /// User records marked for erasure 14 days before or more.
    pub users_to_erase: Vec<UserId>,
}

/// Works out what a sweep at `at` would do, changing nothing.
pub async fn plan(store: &Store, at: DateTime<Utc>) -> Result<Plan, StoreError> {
    let technical_cutoff = technical_deletion_cutoff(at);
    let profile_cutoff = inactive_cutoff(at);
    let profiles_to_unmark = store.active_marked_profiles(profile_cutoff, None).await?;
    let profiles_to_mark = store.idle_profiles(profile_cutoff, None).await?;
    let profiles_to_delete = store
        .profiles_marked_before(at - FINAL_STEP_AFTER, None)
        .await?
        .into_iter()
        .filter(|member| !profiles_to_unmark.contains(member))
        .collect();
    let cases_to_mark = store.idle_cases(at, false, None).await?;
    let cases_to_anonymise = store
        .cases_marked_before(at - FINAL_STEP_AFTER, None)
        .await?;
    let cases_held = store
        .idle_cases(at, true, None)
        .await?
        .into_iter()
        .map(|case| case.id)
        .collect();
    let users_to_mark = store
        .inactive_community_users(inactive_cutoff(at), None)
        .await?;
    let users_to_erase = store
        .users_marked_before(at - FINAL_STEP_AFTER, None)
        .await?;
    Ok(Plan {
        at,
        technical_cutoff,
        technical: store.count_technical(technical_cutoff).await?,
        profile_cutoff,
        profiles_to_unmark,
        profiles_to_mark,
        profiles_to_delete,
        cases_to_mark,
        cases_to_anonymise,
        cases_held,
        users_to_mark,
        users_to_erase,
    })
}

fn instant_text(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl Plan {
    /// Returns the plan as lines of text: a heading, then each rule with
    /// its counts, followed by one indented line per kind or id.
    pub fn lines(&self) -> Vec<String> {
        let technical = &self.technical;
        let mut lines = vec![
            format!(
                "Retention plan for the sweep at {}; nothing is changed.",
                instant_text(self.at)
            ),
            format!(
                "technical_data: delete {} rows collected before {}",
                technical.total(),
                instant_text(self.technical_cutoff)
            ),
            format!("  sign_in_failures: {}", technical.sign_in_failures),
            format!("  revoked_sessions: {}", technical.revoked_sessions),
            format!("  emails: {}", technical.emails),
            format!("  key_recoveries: {}", technical.key_recoveries),
            format!(
                "social_profile: mark {}, unmark {}, delete {}; idle since {} or earlier",
                self.profiles_to_mark.len(),
                self.profiles_to_unmark.len(),
                self.profiles_to_delete.len(),
                instant_text(self.profile_cutoff)
            ),
        ];
        for (verb, members) in [
            ("mark", &self.profiles_to_mark),
            ("unmark", &self.profiles_to_unmark),
            ("delete", &self.profiles_to_delete),
        ] {
            lines.extend(members.iter().map(|member| format!("  {verb} {member}")));
        }
        lines.push(format!(
            "family_finding_case: mark {}, anonymise {}, skip {} on legal hold",
            self.cases_to_mark.len(),
            self.cases_to_anonymise.len(),
            self.cases_held.len()
        ));
        lines.extend(
            self.cases_to_mark
                .iter()
                .map(|case| format!("  mark {} ({})", case.id, case.reason.as_str())),
        );
        lines.extend(
            self.cases_to_anonymise
                .iter()
                .map(|id| format!("  anonymise {id}")),
        );
        lines.extend(self.cases_held.iter().map(|id| format!("  held {id}")));
        lines.push(format!(
            "user_record: mark {}, erase {}",
            self.users_to_mark.len(),
            self.users_to_erase.len()
        ));
        lines.extend(
            self.users_to_mark
                .iter()
                .map(|id| format!("  mark {id} ({})", kinlink_core::user_erasure::INACTIVE)),
        );
        lines.extend(self.users_to_erase.iter().map(|id| format!("  erase {id}")));
        lines
    }
}

/// The supervisor actor. A restart loses nothing, because the ledger in
/// the store records which days were swept.
pub struct RetentionSupervisor {
    store: Store,
    blobs: Arc<dyn BlobStore>,
    broker: Option<Arc<Broker>>,
    clock: Arc<dyn Clock>,
    settings: SweepSettings,
    poll: Duration,
    busy: bool,
}

impl RetentionSupervisor {
    /// Starts the supervisor under an actix supervisor that restarts it if
    /// it stops.
    pub fn start(
        store: Store,
        blobs: Arc<dyn BlobStore>,
        broker: Option<Arc<Broker>>,
        clock: Arc<dyn Clock>,
        settings: SweepSettings,
        poll: Duration,
    ) -> Addr<RetentionSupervisor> {
        Supervisor::start(move |_| RetentionSupervisor {
            store,
            blobs,
            broker,
            clock,
            settings,
            poll,
            busy: false,
        })
    }

    fn tick(&mut self, ctx: &mut Context<Self>) {
        if self.busy {
            return;
        }
        self.busy = true;
        let store = self.store.clone();
        let blobs = Arc::clone(&self.blobs);
        let broker = self.broker.clone();
        let settings = self.settings.clone();
        let now = self.clock.now();
        let pass = async move {
            if let Err(failure) =
                sweep_if_due(&store, &blobs, broker.as_deref(), &settings, now).await
            {
                warn!(
                    error = %Causes(&failure),
                    "the retention sweep failed; the next day's sweep finishes its work"
                );
            }
        }
        .instrument(info_span!("retention"));
        ctx.spawn(pass.into_actor(self).map(|(), actor, _ctx| {
            actor.busy = false;
        }));
    }
}

impl Actor for RetentionSupervisor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.busy = false;
        self.tick(ctx);
        ctx.run_interval(self.poll, |actor, ctx| actor.tick(ctx));
    }
}

impl Supervised for RetentionSupervisor {
    fn restarting(&mut self, _ctx: &mut Self::Context) {
        error!("the retention supervisor stopped; restarting it");
    }
}
