//! The reminder scheduler: a supervised actor per node that sends the
//! letterbox reminders whose time has come.
//!
//! Every poll it lists the reminders of every scheduled agreement whose
//! instant fell since a little before the last poll (see
//! [`kinlink_core::reminders::occurrences`]), and sends each one that no
//! node has sent and that no letter has answered. The store records a
//! reminder and queues its notifications in one transaction under a unique
//! key, so two nodes, a restart or a repeated poll cannot send it twice.
//! After a time when no node ran, reminders up to [`CATCH_UP`] old still
//! go out; older ones are dropped, since a late "due soon" only confuses.

use std::time::Duration;

use actix::prelude::*;
use chrono::{DateTime, NaiveTime, Utc};
use kinlink_core::letterbox::Exchange;
use kinlink_core::local_time::{SCHEDULE_ZONE, on_day};
use kinlink_core::notices::Template;
use kinlink_core::reminders::{EARLY_DAYS, ReminderKind, occurrences};
use kinlink_core::{ConversationId, UserId};
use kinlink_store::reminders::DueReminder;
use kinlink_store::{Store, StoreError};
use tracing::{Instrument, error, info, info_span, warn};

use crate::Causes;

/// How far back a pass looks for reminders that have not gone out.
pub const CATCH_UP: chrono::Duration = chrono::Duration::days(3);

/// Returns the template of a reminder.
fn template(kind: ReminderKind) -> Template {
    match kind {
        ReminderKind::DueSoon => Template::ExchangeDueSoon,
        ReminderKind::Due => Template::ExchangeDue,
        ReminderKind::Overdue => Template::ExchangeOverdue,
    }
}

/// Sends the reminders whose instant lies in `(after, now]`, at local
/// `time` in Europe/London. Returns how many this call sent.
pub async fn run_pass(
    store: &Store,
    time: NaiveTime,
    after: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let mut sent = 0;
    for agreement in store.scheduled_agreements().await? {
        let conversation = ConversationId(agreement.row.conversation_id);
        let exchanges: Vec<Exchange> = match serde_json::from_str(&agreement.row.exchanges) {
            Ok(exchanges) => exchanges,
            Err(_) => {
                warn!(conversation = %conversation, "a stored schedule cannot be read; skipping it");
                continue;
            }
        };
        let due = occurrences(&exchanges, time, SCHEDULE_ZONE, after, now);
        if due.is_empty() {
            continue;
        }
        let supervisors: Vec<UserId> = store
            .members(conversation)
            .await?
            .into_iter()
            .filter(|member| member.role == "supervisor")
            .map(|member| member.user_id)
            .collect();
        for occurrence in due {
            let writers = agreement.parties_of(occurrence.side);
            let writer_ids: Vec<uuid::Uuid> = writers.iter().map(|user| user.0).collect();
            // A letter written up to EARLY_DAYS before the exchange answers it.
            let since = on_day(
                SCHEDULE_ZONE,
                occurrence.due_on - chrono::Duration::days(EARLY_DAYS),
                NaiveTime::MIN,
            );
            if store.wrote_since(conversation, &writer_ids, since).await? {
                continue;
            }
            let mut recipients = writers;
            recipients.extend(supervisors.iter().copied());
            let reminder = DueReminder {
                conversation_id: conversation,
                side: occurrence.side,
                due_on: occurrence.due_on,
                kind: occurrence.kind,
                fire_at: occurrence.fire_at,
                recipients,
                template: template(occurrence.kind),
            };
            if store.reminder_sent(&reminder).await? {
                continue;
            }
            if store.send_reminder(reminder, now).await? {
                sent += 1;
                info!(
                    conversation = %conversation,
                    side = occurrence.side.as_str(),
                    kind = occurrence.kind.as_str(),
                    due_on = %occurrence.due_on,
                    "reminder sent"
                );
            }
        }
    }
    Ok(sent)
}

/// The scheduler actor. A restart loses nothing, because the reminders
/// that went out are recorded in the store.
pub struct ReminderScheduler {
    store: Store,
    time: NaiveTime,
    poll: Duration,
    busy: bool,
}

impl ReminderScheduler {
    /// Starts the scheduler under a supervisor that restarts it if it stops.
    pub fn start(store: Store, time: NaiveTime, poll: Duration) -> Addr<ReminderScheduler> {
        Supervisor::start(move |_| ReminderScheduler {
            store,
            time,
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
        let time = self.time;
        let now = Utc::now();
        let pass = async move {
            if let Err(failure) = run_pass(&store, time, now - CATCH_UP, now).await {
                warn!(error = %Causes(&failure), "sending reminders failed; trying again at the next poll");
            }
        }
        .instrument(info_span!("reminders"));
        ctx.spawn(pass.into_actor(self).map(|(), actor, _ctx| {
            actor.busy = false;
        }));
    }
}

impl Actor for ReminderScheduler {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.busy = false;
        self.tick(ctx);
        ctx.run_interval(self.poll, |actor, ctx| actor.tick(ctx));
    }
}

impl Supervised for ReminderScheduler {
    fn restarting(&mut self, _ctx: &mut Self::Context) {
        error!("the reminder scheduler stopped; restarting it");
    }
}
