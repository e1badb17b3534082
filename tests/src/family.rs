//! A family case's household account, made the way a family gets one: the
//! case's worker invites the household by email, the household accepts
//! with a password, and the worker confirms the account.

use serde_json::json;

use crate::client::status_and_json;
use crate::mail::Catcher;
use crate::{Client, TestApp};

/// A confirmed household account, signed in.
pub struct Household {
    pub user_id: String,
    pub client: Client,
}

/// Invites `email` to the family case `case` of `worker`, accepts the
/// invitation from the email `catcher` received with `password`, confirms
/// the account and signs it in.
pub async fn linked_household(
    app: &TestApp,
    catcher: &Catcher,
    worker: &Client,
    case: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<Household> {
    let invited = worker
        .post(
            &format!("/api/v1/cases/{case}/family-invitation"),
            &json!({ "email": email, "display_name": "Household" }),
        )
        .await?;
    anyhow::ensure!(
        invited.status() == 201,
        "inviting failed: {}",
        invited.status()
    );
    let (token, _) = catcher.invitation_token(email).await?;
    let (status, accepted) = status_and_json(
        Client::new(&app.address)?
            .post(
                "/api/v1/invitations/accept",
                &json!({ "token": token, "password": password }),
            )
            .await?,
    )
    .await?;
    anyhow::ensure!(status == 201, "accepting failed: {accepted}");
    let user_id = accepted["user_id"].as_str().unwrap_or_default().to_owned();
    let confirmed = worker
        .post(&format!("/api/v1/users/{user_id}/confirm"), &json!({}))
        .await?;
    anyhow::ensure!(
        confirmed.status() == 204,
        "confirming failed: {}",
        confirmed.status()
    );
    let client = Client::new(&app.address)?;
    let signed_in = client
        .post(
            "/api/v1/auth/sign-in",
            &json!({ "email": email, "password": password }),
        )
        .await?;
    anyhow::ensure!(
        signed_in.status() == 200,
        "signing in failed: {}",
        signed_in.status()
    );
    Ok(Household { user_id, client })
}
