//! The email outbox: notification email queued in the same store as the
//! event it is about, then sent by whichever node claims it.
//!
//! A node claims a due email by moving it from `pending` to `sending` with
//! a lease, in one conditional update, so two nodes never send the same
//! row at once. A node that dies while sending leaves its lease to run
//! out. The next claim counts that as an unknown outcome, because the mail
//! server may have taken the email before the node died.

use chrono::{DateTime, Duration, Utc};
use kinlink_core::UserId;
use kinlink_core::crypto::token::Token;
use kinlink_core::notices::{EmailState, Template};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tracing::{info, warn};

use crate::entity::{community_link, email_outbox, invitation, user, worker_invitation};
use crate::users::AccountStatus;
use crate::{Store, StoreError};

/// The due rows one claim looks at. Rows that cannot be sent are closed as
/// they are met, so a few of them do not hold up the rest.
const CLAIM_CANDIDATES: u64 = 20;

/// An email to queue.
pub struct NewEmail {
    pub id: uuid::Uuid,
    pub user_id: UserId,
    pub template: Template,
    /// The path the email links to, below the public origin.
    pub link_path: String,
    /// The earliest time to send it.
    pub send_after: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// How long an unsubscribe link in a marketing email works.
pub const UNSUBSCRIBE_LINK_LIFE: Duration = Duration::days(90);

/// An email this node has claimed and must now send. Its link can carry
/// a link token, so printing it shows neither the link nor the address.
#[derive(Clone)]
pub struct ClaimedEmail {
    pub id: uuid::Uuid,
    pub address: String,
    pub template: Template,
    pub link_path: String,
    /// Attempts before this one.
    pub attempts: u32,
    /// Earlier attempts whose outcome is unknown, counting a lease that
    /// ran out.
    pub unknown_outcomes: u32,
    /// For marketing email, the one-time token of its unsubscribe link.
    pub unsubscribe_token: Option<String>,
}

impl std::fmt::Debug for ClaimedEmail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimedEmail")
            .field("id", &self.id)
            .field("template", &self.template)
            .field("attempts", &self.attempts)
            .field("unknown_outcomes", &self.unknown_outcomes)
            .finish_non_exhaustive()
    }
}

/// The end of one attempt, to record.
pub enum Attempted {
    /// Done, in this final state, with the error code if it failed.
    Finished(EmailState, Option<&'static str>),
    /// To try again at this time, after this error.
    Retry(DateTime<Utc>, &'static str),
}

/// Returns the outbox row for a new email.
pub(crate) fn outbox_row(email: NewEmail) -> email_outbox::ActiveModel {
    email_outbox::ActiveModel {
        id: Set(email.id),
        user_id: Set(email.user_id.0),
        template: Set(email.template.code().to_owned()),
        link_path: Set(email.link_path),
        state: Set(EmailState::Pending.as_str().to_owned()),
        attempts: Set(0),
        unknown_outcomes: Set(0),
        next_attempt_at: Set(email.send_after),
        lease_until: Set(None),
        last_error: Set(None),
        created_at: Set(email.created_at),
        finished_at: Set(None),
        invitation_id: Set(None),
    }
}

impl Store {
    /// Returns whether an email from `template` was queued for `user` at
    /// or after `since`.
    pub async fn emailed_since(
        &self,
        user: UserId,
        template: Template,
        since: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Ok(email_outbox::Entity::find()
            .filter(email_outbox::Column::UserId.eq(user.0))
            .filter(email_outbox::Column::Template.eq(template.code()))
            .filter(email_outbox::Column::CreatedAt.gte(since))
            .one(&self.db)
            .await?
            .is_some())
    }

    /// Notifies `user` with `template` unless an email from it was queued
    /// for them at or after `since`. Returns whether it notified.
    pub async fn notify_unless_emailed_since(
        &self,
        user: UserId,
        template: Template,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        if self.emailed_since(user, template, since).await? {
            return Ok(false);
        }
        self.notify(user, template, "/", now).await?;
        Ok(true)
    }

    /// Queues an email.
    pub async fn queue_email(&self, email: NewEmail) -> Result<(), StoreError> {
        email_outbox::Entity::insert(outbox_row(email))
            .exec_without_returning(&self.db)
            .await?;
        Ok(())
    }

    /// Claims the next email that is due at `now`, for `lease`. Rows that
    /// cannot be sent are closed on the way: a recipient who is gone or
    /// disabled, an unknown template, or a second lease that ran out
    /// (the email was already sent once more).
    pub async fn claim_due_email(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Option<ClaimedEmail>, StoreError> {
        let due = Condition::any()
            .add(
                Condition::all()
                    .add(email_outbox::Column::State.eq(EmailState::Pending.as_str()))
                    .add(email_outbox::Column::NextAttemptAt.lte(now)),
            )
            .add(
                Condition::all()
                    .add(email_outbox::Column::State.eq(EmailState::Sending.as_str()))
                    .add(email_outbox::Column::LeaseUntil.lt(now)),
            );
        let candidates = email_outbox::Entity::find()
            .filter(due)
            .order_by_asc(email_outbox::Column::NextAttemptAt)
            .limit(CLAIM_CANDIDATES)
            .all(&self.db)
            .await?;
        for row in candidates {
            if let Some(email) = self.claim_email(row, now, lease).await? {
                return Ok(Some(email));
            }
        }
        Ok(None)
    }

    /// Takes one candidate row unless another node took it first.
    async fn claim_email(
        &self,
        row: email_outbox::Model,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Option<ClaimedEmail>, StoreError> {
        let lease_ran_out = row.state == EmailState::Sending.as_str();
        let unknown_outcomes = row
            .unknown_outcomes
            .saturating_add(i32::from(lease_ran_out));
        let mut update = email_outbox::Entity::update_many()
            .col_expr(
                email_outbox::Column::State,
                Expr::value(EmailState::Sending.as_str()),
            )
            .col_expr(email_outbox::Column::LeaseUntil, Expr::value(now + lease))
            .col_expr(
                email_outbox::Column::UnknownOutcomes,
                Expr::value(unknown_outcomes),
            )
            .filter(email_outbox::Column::Id.eq(row.id))
            .filter(email_outbox::Column::State.eq(row.state.as_str()));
        update = match row.lease_until {
            Some(until) => update.filter(email_outbox::Column::LeaseUntil.eq(until)),
            None => update.filter(email_outbox::Column::LeaseUntil.is_null()),
        };
        if update.exec(&self.db).await?.rows_affected != 1 {
            return Ok(None);
        }
        let close = |state, code| Attempted::Finished(state, Some(code));

        if unknown_outcomes >= 2 {
            warn!(email_id = %row.id, "email closed unconfirmed: its lease ran out a second time");
            let closed = close(EmailState::Unconfirmed, "unknown_outcome");
            return self
                .close_claimed(&row, unknown_outcomes, closed, now)
                .await;
        }
        let Some(template) = Template::from_code(&row.template) else {
            warn!(email_id = %row.id, "email failed: its template is unknown");
            let failed = close(EmailState::Failed, "unknown_template");
            return self
                .close_claimed(&row, unknown_outcomes, failed, now)
                .await;
        };
        if let Some(invitation_id) = row.invitation_id {
            return self
                .claim_invitation_email(&row, invitation_id, template, unknown_outcomes, now)
                .await;
        }
        let recipient = user::Entity::find_by_id(row.user_id).one(&self.db).await?;
        let disabled = AccountStatus::Disabled.as_str();
        let Some(recipient) = recipient.filter(|u| u.status != disabled) else {
            info!(email_id = %row.id, "email dropped: its recipient is gone or disabled");
            let failed = close(EmailState::Failed, "no_recipient");
            return self
                .close_claimed(&row, unknown_outcomes, failed, now)
                .await;
        };
        let unsubscribe_token = if template.is_marketing() {
            if !recipient.marketing_opt_in {
                info!(email_id = %row.id, "marketing email dropped: its recipient opted out");
                let failed = close(EmailState::Failed, "opted_out");
                return self
                    .close_claimed(&row, unknown_outcomes, failed, now)
                    .await;
            }
            let token = Token::generate().map_err(|_random| StoreError::Corrupt {
                what: "random source",
            })?;
            self.add_unsubscribe_link(crate::entity::unsubscribe_link::Model {
                token_hash: token.hash().to_vec(),
                user_id: recipient.id,
                email_id: row.id,
                created_at: now,
                expires_at: now + UNSUBSCRIBE_LINK_LIFE,
                used_at: None,
            })
            .await?;
            Some(token.to_text().as_str().to_owned())
        } else {
            None
        };
        Ok(Some(ClaimedEmail {
            id: row.id,
            address: recipient.email,
            template,
            link_path: row.link_path,
            attempts: u32::try_from(row.attempts).unwrap_or(0),
            unknown_outcomes: u32::try_from(unknown_outcomes).unwrap_or(0),
            unsubscribe_token,
        }))
    }

    /// Completes the claim of an invitation email, for a contact link or
    /// for a worker: it goes to the invitation's address with a fresh link token, whose hash replaces
    /// the one before, so only the latest email's link works. An
    /// invitation that was accepted or has expired is not sent.
    async fn claim_invitation_email(
        &self,
        row: &email_outbox::Model,
        invitation_id: uuid::Uuid,
        template: Template,
        unknown_outcomes: i32,
        now: DateTime<Utc>,
    ) -> Result<Option<ClaimedEmail>, StoreError> {
        let token = Token::generate().map_err(|_random| StoreError::Corrupt {
            what: "random source",
        })?;
        let hash = token.hash().to_vec();
        let invitation_link = format!("invitation#{}", token.to_text().as_str());
        let contact = invitation::Entity::find_by_id(invitation_id)
            .one(&self.db)
            .await?;
        let open = if let Some(found) = contact {
            let open = found.accepted_at.is_none() && found.expires_at > now;
            if open {
                invitation::Entity::update_many()
                    .col_expr(invitation::Column::TokenHash, Expr::value(hash))
                    .filter(invitation::Column::Id.eq(invitation_id))
                    .exec(&self.db)
                    .await?;
            }
            open.then_some((found.email, invitation_link))
        } else if let Some(found) = community_link::Entity::find_by_id(invitation_id)
            .one(&self.db)
            .await?
        {
            self.claim_community_link(found, template, token, now)
                .await?
        } else {
            let worker = worker_invitation::Entity::find_by_id(invitation_id)
                .one(&self.db)
                .await?
                .filter(|found| found.accepted_at.is_none() && found.expires_at > now);
            if let Some(found) = &worker {
                // A second-factor secret offered under the old token can no
                // longer be opened; the new link offers a new one.
                worker_invitation::Entity::update_many()
                    .col_expr(worker_invitation::Column::TokenHash, Expr::value(hash))
                    .col_expr(
                        worker_invitation::Column::EnrolmentSealedSecret,
                        Expr::value(Option::<Vec<u8>>::None),
                    )
                    .filter(worker_invitation::Column::Id.eq(found.id))
                    .exec(&self.db)
                    .await?;
            }
            worker.map(|found| (found.email, invitation_link))
        };
        let Some((address, link_path)) = open else {
            info!(email_id = %row.id, "invitation email dropped: the invitation is used or expired");
            let closed = Attempted::Finished(EmailState::Failed, Some("invitation_closed"));
            return self.close_claimed(row, unknown_outcomes, closed, now).await;
        };
        Ok(Some(ClaimedEmail {
            id: row.id,
            address,
            template,
            link_path,
            attempts: u32::try_from(row.attempts).unwrap_or(0),
            unknown_outcomes: u32::try_from(unknown_outcomes).unwrap_or(0),
            unsubscribe_token: None,
        }))
    }

    /// Completes the claim of a community application email: a fresh link
    /// token for a link still open, or, for an address that has an account
    /// already, the sign-in page.
    async fn claim_community_link(
        &self,
        found: community_link::Model,
        template: Template,
        token: Token,
        now: DateTime<Utc>,
    ) -> Result<Option<(String, String)>, StoreError> {
        if found.used_at.is_some() || found.expires_at <= now {
            return Ok(None);
        }
        if template != Template::CommunityApplication {
            return Ok(Some((found.email, String::new())));
        }
        community_link::Entity::update_many()
            .col_expr(
                community_link::Column::TokenHash,
                Expr::value(token.hash().to_vec()),
            )
            .filter(community_link::Column::Id.eq(found.id))
            .exec(&self.db)
            .await?;
        Ok(Some((
            found.email,
            format!("community/apply#{}", token.to_text().as_str()),
        )))
    }

    /// Records a just-claimed row as finished without sending it.
    async fn close_claimed(
        &self,
        row: &email_outbox::Model,
        unknown_outcomes: i32,
        closed: Attempted,
        now: DateTime<Utc>,
    ) -> Result<Option<ClaimedEmail>, StoreError> {
        self.record_attempt(row.id, row.attempts, unknown_outcomes, closed, now)
            .await?;
        Ok(None)
    }

    /// Records the end of an attempt on an email this node holds, where
    /// `attempts` counts the attempts before this one and `unknown_outcomes`
    /// the attempts, this one included, whose outcome is unknown.
    pub async fn record_attempt(
        &self,
        id: uuid::Uuid,
        attempts: i32,
        unknown_outcomes: i32,
        attempted: Attempted,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (state, next, error, finished) = match attempted {
            Attempted::Finished(state, error) => (state, now, error, Some(now)),
            Attempted::Retry(at, error) => (EmailState::Pending, at, Some(error), None),
        };
        email_outbox::Entity::update_many()
            .col_expr(email_outbox::Column::State, Expr::value(state.as_str()))
            .col_expr(
                email_outbox::Column::Attempts,
                Expr::value(attempts.saturating_add(1)),
            )
            .col_expr(
                email_outbox::Column::UnknownOutcomes,
                Expr::value(unknown_outcomes),
            )
            .col_expr(email_outbox::Column::NextAttemptAt, Expr::value(next))
            .col_expr(
                email_outbox::Column::LeaseUntil,
                Expr::value(None::<DateTime<Utc>>),
            )
            .col_expr(email_outbox::Column::LastError, Expr::value(error))
            .col_expr(email_outbox::Column::FinishedAt, Expr::value(finished))
            .filter(email_outbox::Column::Id.eq(id))
            .filter(email_outbox::Column::State.eq(EmailState::Sending.as_str()))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Finds a queued email by id.
    pub async fn queued_email(
        &self,
        id: uuid::Uuid,
    ) -> Result<Option<email_outbox::Model>, StoreError> {
        Ok(email_outbox::Entity::find_by_id(id).one(&self.db).await?)
    }
}
