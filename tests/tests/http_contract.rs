//! Headers, Origin checks and the documents the server publishes.

use kinlink_tests::{Client, TestApp};
use serde_json::json;

#[tokio::test]
async fn every_response_has_security_headers() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let client = Client::new(&app.address)?;
    for path in [
        "/",
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/openapi.json",
        "/api/v1/me",
        "/static/app.js",
        "/static/missing.js",
        "/api/v1/nope",
    ] {
        let response = client.get(path).await?;
        let headers = response.headers();
        let csp = headers
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert_eq!(
            headers.get("referrer-policy").and_then(|v| v.to_str().ok()),
            Some("no-referrer"),
            "{path}"
        );
        assert_eq!(
            headers
                .get("x-content-type-options")
                .and_then(|v| v.to_str().ok()),
            Some("nosniff"),
            "{path}"
        );
        assert!(headers.get("x-request-id").is_some(), "{path}");
    }
    Ok(())
}

#[tokio::test]
async fn state_change_from_other_origin_is_refused() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    for origin in [Some("http://evil.example"), None] {
        let mut request = alex
            .http
            .post(format!("{}/api/v1/conversations/{link}/read", app.address))
            .json(&json!({ "up_to": 0 }));
        if let Some(origin) = origin {
            request = request.header("Origin", origin);
        }
        let response = request.send().await?;
        assert_eq!(response.status(), 403, "origin {origin:?}");
        let body: serde_json::Value = response.json().await?;
        assert_eq!(body["code"], "request.origin_rejected");
    }
    let response = alex
        .http
        .post(format!("{}/api/v1/auth/sign-out", app.address))
        .send()
        .await?;
    assert_eq!(response.status(), 403);
    assert_eq!(
        alex.get("/api/v1/me").await?.status(),
        200,
        "the session survived"
    );
    Ok(())
}

#[tokio::test]
async fn health_and_readiness_answer() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let client = Client::new(&app.address)?;
    assert_eq!(client.get("/healthz").await?.status(), 200);
    assert_eq!(client.get("/readyz").await?.status(), 200);
    let metrics = client.get("/metrics").await?.text().await?;
    assert!(metrics.contains("kinlink_ws_send_queue_bytes"));
    Ok(())
}

#[tokio::test]
async fn openapi_documents_every_route() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let client = Client::new(&app.address)?;
    let document = client.get_json("/api/openapi.json").await?;
    assert_eq!(
        document["openapi"].as_str().map(|v| v.starts_with("3.")),
        Some(true)
    );
    let routes = [
        ("/api/v1/auth/sign-in", "post"),
        ("/api/v1/auth/sign-out", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/me/password", "post"),
        ("/api/v1/me/recovery-codes", "post"),
        ("/api/v1/me/notifications", "get"),
        ("/api/v1/me/notifications", "put"),
        ("/api/v1/sessions", "get"),
        ("/api/v1/sessions/{id}", "delete"),
        ("/api/v1/conversations", "get"),
        ("/api/v1/conversations/{id}/messages", "get"),
        ("/api/v1/conversations/{id}/read", "post"),
        ("/api/v1/conversations/{id}/members/{user_id}", "delete"),
        ("/api/v1/users/{id}/confirm", "post"),
        ("/api/v1/users/{id}/disable", "post"),
        ("/api/v1/conversations/{id}/uploads", "post"),
        ("/api/v1/uploads/{id}", "get"),
        ("/api/v1/uploads/{id}", "patch"),
        ("/api/v1/conversations/{id}/accepted-media", "put"),
        ("/api/v1/files/{id}", "get"),
        ("/api/v1/files/{id}/renditions/{role}", "get"),
        ("/api/v1/conversations/{id}/agreement", "get"),
        ("/api/v1/conversations/{id}/agreement", "put"),
        ("/api/v1/conversations/{id}/agreement/status", "post"),
        ("/api/v1/conversations/{id}/letters", "get"),
        ("/api/v1/conversations/{id}/letters", "post"),
        ("/api/v1/conversations/{id}/timeline", "get"),
        ("/api/v1/letters/{id}", "get"),
        ("/api/v1/letters/{id}", "put"),
        ("/api/v1/letters/{id}/submit", "post"),
        ("/api/v1/letters/{id}/decision", "post"),
        ("/api/v1/letters/{id}/read", "post"),
        ("/api/v1/conversations/{id}/calls", "get"),
        ("/api/v1/conversations/{id}/scheduled-calls", "get"),
        ("/api/v1/conversations/{id}/scheduled-calls", "post"),
        (
            "/api/v1/conversations/{id}/scheduled-calls/{scheduled}",
            "delete",
        ),
        ("/api/v1/conversations/{id}/notes", "get"),
        ("/api/v1/conversations/{id}/notes", "post"),
        ("/api/v1/review-queue", "get"),
        ("/api/v1/exchanges", "get"),
        ("/api/v1/conversations/{id}/invitations", "get"),
        ("/api/v1/conversations/{id}/invitations", "post"),
        ("/api/v1/invitations/open", "post"),
        ("/api/v1/invitations/enrol", "post"),
        ("/api/v1/invitations/accept", "post"),
        ("/api/v1/organisations/{id}/invitations", "post"),
        ("/api/v1/organisations/{id}/workers", "get"),
        ("/api/v1/unsubscribe", "post"),
        ("/api/v1/unsubscribe/{token}", "post"),
        ("/api/v1/admin/organisations", "get"),
        ("/api/v1/admin/organisations", "post"),
        ("/api/v1/admin/organisations/{id}", "put"),
        ("/api/v1/me/export", "get"),
        ("/api/v1/me/rights-requests", "get"),
        ("/api/v1/me/rights-requests", "post"),
        ("/api/v1/rights-requests", "get"),
        ("/api/v1/rights-requests", "post"),
        ("/api/v1/rights-requests/{id}/state", "post"),
        ("/api/v1/admin/key-recoveries", "get"),
        ("/api/v1/admin/key-recoveries", "post"),
        ("/api/v1/admin/key-recoveries/{id}/approve", "post"),
        ("/api/v1/admin/key-recoveries/{id}/cancel", "post"),
        ("/api/v1/account-recovery/open", "post"),
        ("/api/v1/account-recovery/complete", "post"),
        ("/api/v1/organisations", "get"),
        ("/api/v1/cases", "get"),
        ("/api/v1/cases", "post"),
        ("/api/v1/cases/marked", "get"),
        ("/api/v1/cases/{id}", "get"),
        ("/api/v1/cases/{id}", "put"),
        ("/api/v1/cases/{id}", "delete"),
        ("/api/v1/cases/{id}/keep", "post"),
        ("/api/v1/cases/{id}/hold", "put"),
        ("/api/v1/cases/{id}/hold", "delete"),
        ("/api/v1/cases/{id}/publication", "put"),
        ("/api/v1/cases/{id}/matches", "get"),
        ("/api/v1/cases/{id}/matches/{other_id}", "get"),
        ("/api/v1/cases/{id}/media", "get"),
        ("/api/v1/cases/{id}/media", "post"),
        ("/api/v1/cases/{id}/media/{media_id}", "delete"),
        ("/api/v1/cases/{id}/media/{media_id}/{role}", "get"),
        ("/api/v1/cases/{id}/family-invitation", "post"),
        ("/api/v1/cases/{id}/family-account", "delete"),
        ("/api/v1/cases/{id}/interests", "post"),
        ("/api/v1/interests", "get"),
        ("/api/v1/interests/{id}/state", "post"),
        ("/api/v1/cases/{id}/transfer", "post"),
        ("/api/v1/transfers", "get"),
        ("/api/v1/audit", "get"),
        ("/api/v1/search/children", "get"),
        ("/api/v1/search/families", "get"),
        ("/api/v1/statistics/profile-views", "get"),
        ("/api/v1/statistics/sufficiency", "get"),
        ("/api/v1/community/partners", "get"),
        ("/api/v1/community/applications", "post"),
        ("/api/v1/community/applications", "get"),
        ("/api/v1/community/applications/confirm", "post"),
        ("/api/v1/community/applications/{user_id}/decision", "post"),
        ("/api/v1/community/membership", "get"),
        ("/api/v1/community/membership", "post"),
        ("/api/v1/community/rules", "get"),
        ("/api/v1/community/membership/rules", "post"),
        ("/api/v1/community/partners/{id}/membership-list", "put"),
        ("/api/v1/community/profile", "get"),
        ("/api/v1/community/profile", "put"),
        ("/api/v1/community/profile", "delete"),
        ("/api/v1/community/members/{id}", "get"),
        ("/api/v1/community/members/{id}/moderation", "post"),
        ("/api/v1/community/groups", "get"),
        ("/api/v1/community/groups", "post"),
        ("/api/v1/community/groups/{id}/join", "post"),
        ("/api/v1/community/groups/{id}/membership", "delete"),
        ("/api/v1/community/groups/{id}/requests", "get"),
        ("/api/v1/community/groups/{id}/requests/{user_id}", "post"),
        ("/api/v1/community/groups/{id}/topics", "get"),
        ("/api/v1/community/groups/{id}/topics", "post"),
        ("/api/v1/community/topics/{id}", "get"),
        ("/api/v1/community/topics/{id}/posts", "post"),
        ("/api/v1/community/posts/{id}/reports", "post"),
        ("/api/v1/community/posts/{id}/moderation", "post"),
        ("/api/v1/community/reports", "get"),
        ("/api/v1/community/notices", "get"),
        ("/api/v1/community/notices/{id}/appeal", "post"),
        ("/api/v1/community/notices/{id}/appeal/decision", "post"),
        ("/api/v1/community/appeals", "get"),
        ("/api/v1/community/search", "get"),
        ("/api/v1/community/images", "post"),
        ("/api/v1/community/images/{id}", "get"),
        ("/api/v1/community/images/{id}", "delete"),
        ("/api/v1/community/images/{id}/{role}", "get"),
        ("/api/v1/community/concern-organisations", "get"),
        ("/api/v1/community/posts/{id}/concerns", "post"),
        ("/api/v1/organisations/{id}/community-concerns", "get"),
        ("/api/v1/ws", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
    ];
    for (path, method) in routes {
        assert!(
            document["paths"][path][method].is_object(),
            "{method} {path} is not documented"
        );
    }
    let documented = document["paths"].as_object().map_or(0, |paths| {
        paths
            .values()
            .map(|p| p.as_object().map_or(0, |m| m.len()))
            .sum::<usize>()
    });
    assert_eq!(
        documented,
        routes.len(),
        "the document lists routes the server does not have"
    );
    Ok(())
}
