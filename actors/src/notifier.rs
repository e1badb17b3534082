//! The notifier: one task per node that sends the email in the outbox.
//!
//! Every few seconds the task first collects the daily digests whose hour
//! has come into outbox emails, then claims the emails that are due, sends
//! each, and records the outcome. Nodes share the work
//! through the store's claims, so each email is sent by one node. An email
//! that could not be sent waits with a growing backoff; one whose outcome
//! is unknown is sent once more and no more (see
//! [`kinlink_core::notices::next_step`]).

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use chrono::Utc;
use futures_util::FutureExt;
use kinlink_core::notices::{EmailState, NextStep, SendOutcome, next_step};
use kinlink_store::Store;
use kinlink_store::outbox::{Attempted, ClaimedEmail};
use tracing::{Instrument, debug, error, info, info_span, warn};

use crate::Causes;
use crate::mailer::{Letterhead, Mailer};

/// How long a node may take to send one email before another node may
/// take it over and count its outcome as unknown: longer than the mailer's
/// connection check and send timeouts together.
const LEASE: chrono::Duration = chrono::Duration::minutes(5);

/// The maximum number of digests collected in one pass.
const BATCH: u64 = 20;

/// Starts the notifier on the current runtime, polling every `poll`.
pub fn start(store: Store, mailer: Mailer, letterhead: Letterhead, poll: Duration) {
    let sender = Sender {
        store,
        mailer,
        letterhead,
    };
    tokio::spawn(sender.run(poll).instrument(info_span!("notifier")));
}

/// The state of the task: it owns the mailer and its connection pool.
struct Sender {
    store: Store,
    mailer: Mailer,
    letterhead: Letterhead,
}

impl Sender {
    async fn run(mut self, poll: Duration) {
        loop {
            // A panic in one pass is logged and the next pass runs, so one
            // bad row cannot stop this node's email for good.
            let pass = AssertUnwindSafe(self.pass()).catch_unwind().await;
            if pass.is_err() {
                error!("the notifier panicked; it carries on at the next poll");
            }
            tokio::time::sleep(poll).await;
        }
    }

    /// Collects due digests, then sends every due email.
    async fn pass(&mut self) {
        if let Err(error) = self.store.queue_due_digests(Utc::now(), BATCH).await {
            warn!(error = %Causes(&error), "collecting digests failed; trying again");
        }
        if let Err(error) = self.send_due().await {
            warn!(error = %Causes(&error), "reading the email outbox failed; trying again");
        }
    }

    /// Sends everything due now. Each email is claimed just before it is
    /// sent, so its lease covers that one send and no other node takes it
    /// while this one is still working on it.
    async fn send_due(&mut self) -> Result<(), kinlink_store::StoreError> {
        while let Some(email) = self.store.claim_due_email(Utc::now(), LEASE).await? {
            self.send_one(email).await?;
        }
        Ok(())
    }

    async fn send_one(&mut self, email: ClaimedEmail) -> Result<(), kinlink_store::StoreError> {
        let attempts = i32::try_from(email.attempts).unwrap_or(i32::MAX);
        let message = self.letterhead.compose(
            email.id,
            &email.address,
            email.template,
            &email.link_path,
            email.unsubscribe_token.as_deref(),
        );
        let message = match message {
            Ok(message) => message,
            Err(error) => {
                warn!(email_id = %email.id, error = %Causes(&error), "email could not be built");
                let failed = Attempted::Finished(EmailState::Failed, Some("invalid_message"));
                let unknown = i32::try_from(email.unknown_outcomes).unwrap_or(i32::MAX);
                let store = &self.store;
                return store
                    .record_attempt(email.id, attempts, unknown, failed, Utc::now())
                    .await;
            }
        };

        let (outcome, error) = self.mailer.send(message).await;
        let unknown = email.unknown_outcomes + u32::from(outcome == SendOutcome::Unknown);
        let now = Utc::now();
        let recorded = match next_step(outcome, email.attempts + 1, unknown, now) {
            NextStep::Finish(state) => {
                log_finish(&email, state, error);
                Attempted::Finished(state, error)
            }
            NextStep::RetryAt(at) => {
                let error = error.unwrap_or("unknown_outcome");
                warn!(email_id = %email.id, error, retry_at = %at, "email not sent; will retry");
                Attempted::Retry(at, error)
            }
        };
        let unknown = i32::try_from(unknown).unwrap_or(i32::MAX);
        self.store
            .record_attempt(email.id, attempts, unknown, recorded, now)
            .await
    }
}

fn log_finish(email: &ClaimedEmail, state: EmailState, error: Option<&str>) {
    match state {
        EmailState::Sent => {
            info!(email_id = %email.id, template = email.template.code(), "email sent")
        }
        _ => warn!(email_id = %email.id, state = state.as_str(), error, "email given up"),
    }
    debug!(email_id = %email.id, attempts = email.attempts + 1, "email attempt recorded");
}
