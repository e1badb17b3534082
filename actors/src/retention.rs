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
use kinlink_core::retention::{latest_sweep, technical_deletion_cutoff};
use kinlink_store::audit::AuditRecord;
use kinlink_store::retention::TechnicalDeleted;
use kinlink_store::{Store, StoreError};
use tracing::{Instrument, error, info, info_span, warn};

use crate::Causes;

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
}

/// The counts of what one sweep deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Technical and usage data deleted a year after it was collected.
    pub technical: TechnicalDeleted,
}

impl SweepReport {
    /// Returns the report as JSON, for the ledger and the audit trail.
    pub fn to_json(&self) -> serde_json::Value {
        let technical = &self.technical;
        serde_json::json!({
            "technical_data": {
                "sign_in_failures": technical.sign_in_failures,
                "revoked_sessions": technical.revoked_sessions,
                "emails": technical.emails,
                "key_recoveries": technical.key_recoveries,
            }
        })
    }
}

/// Applies every retention rule as of `now`, each in batches until nothing
/// it covers is due, and audits what it deleted.
pub async fn sweep(
    store: &Store,
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
    let report = SweepReport { technical };
    if technical.total() > 0 {
        let mut detail = report.to_json();
        detail["collected_before"] = serde_json::json!(cutoff);
        store
            .audit(AuditRecord {
                actor_id: None,
                organisation_id: None,
                action: "retention.deleted",
                subject_kind: "technical_data",
                subject_id: None,
                detail,
                at: now,
            })
            .await?;
    }
    Ok(report)
}

/// Runs the latest sweep due at `now` unless a node has run it. Returns its
/// report when this call swept.
pub async fn sweep_if_due(
    store: &Store,
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
    let report = sweep(store, settings.batch_size, now).await?;
    store
        .finish_sweep(day, report.to_json().to_string(), now)
        .await?;
    info!(
        day = %day,
        technical_rows = report.technical.total(),
        "retention sweep finished"
    );
    Ok(Some(report))
}

/// The supervisor actor. A restart loses nothing, because the ledger in
/// the store records which days were swept.
pub struct RetentionSupervisor {
    store: Store,
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
        clock: Arc<dyn Clock>,
        settings: SweepSettings,
        poll: Duration,
    ) -> Addr<RetentionSupervisor> {
        Supervisor::start(move |_| RetentionSupervisor {
            store,
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
        let settings = self.settings.clone();
        let now = self.clock.now();
        let pass = async move {
            if let Err(failure) = sweep_if_due(&store, &settings, now).await {
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
