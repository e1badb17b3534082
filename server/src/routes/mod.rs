//! HTTP routes, one module per resource.

pub mod access_export;
pub mod agreements;
pub mod audit;
pub mod auth;
pub mod calls;
pub mod case_media;
pub mod case_notes;
pub mod case_retention;
pub mod cases;
pub mod community;
pub mod conversations;
pub mod exchanges;
pub mod family_accounts;
pub mod files;
pub mod health;
pub mod interests;
pub mod invitations;
mod json_body;
pub mod key_recoveries;
pub mod letters;
pub mod notifications;
pub mod organisations;
pub mod rights;
pub mod sealed_upload;
pub mod search;
pub mod sessions;
pub mod statistics;
pub mod transfers;
pub mod unsubscribe;
pub mod users;
pub mod web_client;
pub mod workers;
pub mod ws;

pub use json_body::JsonBody;

use actix_web::web;

use crate::error::ApiError;

/// Registers every route.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(
            web::scope("/api/v1")
                .app_data(query_config())
                .route("/auth/sign-in", web::post().to(auth::sign_in))
                .route("/auth/sign-out", web::post().to(auth::sign_out))
                .route("/me", web::get().to(auth::me))
                .route("/sessions", web::get().to(sessions::list))
                .route("/sessions/{id}", web::delete().to(sessions::revoke))
                .route("/conversations", web::get().to(conversations::list))
                .route(
                    "/conversations/{id}/messages",
                    web::get().to(conversations::messages),
                )
                .route(
                    "/conversations/{id}/read",
                    web::post().to(conversations::mark_read),
                )
                .route(
                    "/conversations/{id}/members/{user_id}",
                    web::delete().to(conversations::remove_member),
                )
                .route("/conversations/{id}/uploads", web::post().to(files::start))
                .route(
                    "/conversations/{id}/agreement",
                    web::get().to(agreements::get),
                )
                .route(
                    "/conversations/{id}/agreement",
                    web::put().to(agreements::put),
                )
                .route(
                    "/conversations/{id}/agreement/status",
                    web::post().to(agreements::set_status),
                )
                .route("/conversations/{id}/letters", web::get().to(letters::list))
                .route(
                    "/conversations/{id}/letters",
                    web::post().to(letters::create),
                )
                .route(
                    "/conversations/{id}/timeline",
                    web::get().to(letters::timeline),
                )
                .route("/conversations/{id}/calls", web::get().to(calls::record))
                .route(
                    "/conversations/{id}/scheduled-calls",
                    web::get().to(calls::list_scheduled),
                )
                .route(
                    "/conversations/{id}/scheduled-calls",
                    web::post().to(calls::schedule),
                )
                .route(
                    "/conversations/{id}/scheduled-calls/{scheduled}",
                    web::delete().to(calls::cancel),
                )
                .route("/conversations/{id}/notes", web::get().to(case_notes::list))
                .route("/conversations/{id}/notes", web::post().to(case_notes::add))
                .route(
                    "/conversations/{id}/invitations",
                    web::get().to(invitations::list),
                )
                .route(
                    "/conversations/{id}/invitations",
                    web::post().to(invitations::create),
                )
                .route("/invitations/open", web::post().to(invitations::open))
                .route("/unsubscribe", web::post().to(unsubscribe::from_page))
                .route(
                    "/unsubscribe/{token}",
                    web::post().to(unsubscribe::one_click),
                )
                .route(
                    "/account-recovery/open",
                    web::post().to(key_recoveries::open),
                )
                .route(
                    "/account-recovery/complete",
                    web::post().to(key_recoveries::complete),
                )
                .route("/admin/key-recoveries", web::get().to(key_recoveries::list))
                .route(
                    "/admin/key-recoveries",
                    web::post().to(key_recoveries::request),
                )
                .route(
                    "/admin/key-recoveries/{id}/approve",
                    web::post().to(key_recoveries::approve),
                )
                .route(
                    "/admin/key-recoveries/{id}/cancel",
                    web::post().to(key_recoveries::cancel),
                )
                .route("/invitations/enrol", web::post().to(invitations::enrol))
                .route("/invitations/accept", web::post().to(invitations::accept))
                .route("/letters/{id}", web::get().to(letters::get))
                .route("/letters/{id}", web::put().to(letters::save))
                .route("/letters/{id}/submit", web::post().to(letters::submit))
                .route("/letters/{id}/decision", web::post().to(letters::decide))
                .route("/letters/{id}/read", web::post().to(letters::read))
                .route("/review-queue", web::get().to(letters::review_queue))
                .route("/exchanges", web::get().to(exchanges::list))
                .route("/uploads/{id}", web::get().to(files::status))
                .route("/uploads/{id}", web::patch().to(files::append))
                .route(
                    "/conversations/{id}/accepted-media",
                    web::put().to(conversations::set_accepted_media),
                )
                .route("/files/{id}", web::get().to(files::download))
                .route(
                    "/files/{id}/renditions/{role}",
                    web::get().to(files::rendition),
                )
                .route("/me/password", web::post().to(users::change_password))
                .route(
                    "/me/recovery-codes",
                    web::post().to(users::replace_recovery_codes),
                )
                .route("/me/notifications", web::get().to(notifications::get))
                .route("/me/notifications", web::put().to(notifications::put))
                .route("/me/export", web::get().to(access_export::download))
                .route("/me/rights-requests", web::get().to(rights::mine))
                .route("/me/rights-requests", web::post().to(rights::ask))
                .route("/rights-requests", web::get().to(rights::list))
                .route("/rights-requests", web::post().to(rights::record_for))
                .route(
                    "/rights-requests/{id}/state",
                    web::post().to(rights::decide),
                )
                .route("/organisations/{id}/workers", web::get().to(workers::list))
                .route(
                    "/organisations/{id}/invitations",
                    web::post().to(workers::invite),
                )
                .route("/users/{id}/confirm", web::post().to(users::confirm))
                .route(
                    "/admin/organisations",
                    web::get().to(organisations::admin_list),
                )
                .route(
                    "/admin/organisations",
                    web::post().to(organisations::admin_create),
                )
                .route(
                    "/admin/organisations/{id}",
                    web::put().to(organisations::admin_update),
                )
                .route("/organisations", web::get().to(organisations::directory))
                .route("/cases", web::get().to(cases::list))
                .route("/cases", web::post().to(cases::create))
                .route("/cases/marked", web::get().to(case_retention::marked))
                .route("/cases/{id}", web::get().to(cases::get))
                .route("/cases/{id}", web::put().to(cases::update))
                .route("/cases/{id}", web::delete().to(case_retention::erase))
                .route("/cases/{id}/keep", web::post().to(case_retention::keep))
                .route("/cases/{id}/hold", web::put().to(case_retention::hold))
                .route(
                    "/cases/{id}/hold",
                    web::delete().to(case_retention::release),
                )
                .route("/cases/{id}/publication", web::put().to(cases::publish))
                .route(
                    "/cases/{id}/family-invitation",
                    web::post().to(family_accounts::invite),
                )
                .route(
                    "/cases/{id}/family-account",
                    web::delete().to(family_accounts::remove),
                )
                .route("/cases/{id}/media", web::post().to(case_media::upload))
                .route("/cases/{id}/media", web::get().to(case_media::list))
                .route(
                    "/cases/{id}/media/{media_id}",
                    web::delete().to(case_media::remove),
                )
                .route(
                    "/cases/{id}/media/{media_id}/{role}",
                    web::get().to(case_media::content),
                )
                .route("/cases/{id}/matches", web::get().to(search::matches))
                .route(
                    "/cases/{id}/matches/{other_id}",
                    web::get().to(search::pair),
                )
                .route("/cases/{id}/interests", web::post().to(interests::express))
                .route("/interests", web::get().to(interests::list))
                .route("/cases/{id}/transfer", web::post().to(transfers::transfer))
                .route("/transfers", web::get().to(transfers::list))
                .route("/audit", web::get().to(audit::list))
                .route(
                    "/interests/{id}/state",
                    web::post().to(interests::set_state),
                )
                .route("/search/children", web::get().to(search::children))
                .route("/search/families", web::get().to(search::families))
                .route(
                    "/statistics/profile-views",
                    web::get().to(statistics::profile_views),
                )
                .route(
                    "/statistics/sufficiency",
                    web::get().to(statistics::sufficiency),
                )
                .route("/users/{id}/disable", web::post().to(users::disable))
                .configure(community_routes)
                .route("/ws", web::get().to(ws::connect)),
        )
        .route("/api/openapi.json", web::get().to(health::openapi))
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(health::metrics))
        .route("/static/{path:.*}", web::get().to(web_client::asset))
        .default_service(web::get().to(web_client::index));
}

/// Registers the community's routes.
fn community_routes(config: &mut web::ServiceConfig) {
    use community::{
        concerns, groups, images, membership, membership_list, moderation, profile, search, topics,
    };
    config
        .route("/community/partners", web::get().to(membership::partners))
        .route(
            "/community/applications",
            web::post().to(membership::apply_by_email),
        )
        .route(
            "/community/applications",
            web::get().to(membership::applications),
        )
        .route(
            "/community/applications/confirm",
            web::post().to(membership::confirm),
        )
        .route(
            "/community/applications/{user_id}/decision",
            web::post().to(membership::decide),
        )
        .route("/community/membership", web::get().to(membership::get))
        .route("/community/membership", web::post().to(membership::apply))
        .route("/community/rules", web::get().to(membership::rules))
        .route(
            "/community/membership/rules",
            web::post().to(membership::accept_rules),
        )
        .route(
            "/community/partners/{id}/membership-list",
            web::put().to(membership_list::replace),
        )
        .route("/community/profile", web::get().to(profile::get))
        .route("/community/profile", web::put().to(profile::put))
        .route("/community/profile", web::delete().to(profile::delete))
        .route("/community/members/{id}", web::get().to(profile::member))
        .route(
            "/community/members/{id}/moderation",
            web::post().to(moderation::moderate_member),
        )
        .route("/community/groups", web::get().to(groups::list))
        .route("/community/groups", web::post().to(groups::create))
        .route("/community/groups/{id}/join", web::post().to(groups::join))
        .route(
            "/community/groups/{id}/membership",
            web::delete().to(groups::leave),
        )
        .route(
            "/community/groups/{id}/requests",
            web::get().to(groups::requests),
        )
        .route(
            "/community/groups/{id}/requests/{user_id}",
            web::post().to(groups::decide_request),
        )
        .route("/community/groups/{id}/topics", web::get().to(topics::list))
        .route(
            "/community/groups/{id}/topics",
            web::post().to(topics::open),
        )
        .route("/community/topics/{id}", web::get().to(topics::get))
        .route(
            "/community/topics/{id}/posts",
            web::post().to(topics::reply),
        )
        .route(
            "/community/posts/{id}/reports",
            web::post().to(topics::report),
        )
        .route(
            "/community/posts/{id}/moderation",
            web::post().to(moderation::moderate_post),
        )
        .route("/community/reports", web::get().to(moderation::reports))
        .route("/community/notices", web::get().to(moderation::notices))
        .route(
            "/community/notices/{id}/appeal",
            web::post().to(moderation::appeal),
        )
        .route(
            "/community/notices/{id}/appeal/decision",
            web::post().to(moderation::decide_appeal),
        )
        .route("/community/appeals", web::get().to(moderation::appeals))
        .route("/community/search", web::get().to(search::search))
        .route("/community/images", web::post().to(images::upload))
        .route("/community/images/{id}", web::get().to(images::get))
        .route("/community/images/{id}", web::delete().to(images::remove))
        .route(
            "/community/images/{id}/{role}",
            web::get().to(images::content),
        )
        .route(
            "/community/concern-organisations",
            web::get().to(concerns::organisations),
        )
        .route(
            "/community/posts/{id}/concerns",
            web::post().to(concerns::raise),
        )
        .route(
            "/organisations/{id}/community-concerns",
            web::get().to(concerns::list),
        );
}

fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error, _request| {
        ApiError::InvalidJson {
            message: without_values(&error.to_string()),
            field: None,
        }
        .into()
    })
}

/// Removes the offending value from a deserializer's message, such as the
/// password in "invalid type: integer `1234`, expected a string", while
/// keeping field names, which serde quotes the same way in other messages.
fn without_values(message: &str) -> String {
    let mut text = message.to_owned();
    for marker in ["invalid type: ", "invalid value: ", "invalid length "] {
        let Some(start) = text.find(marker) else {
            continue;
        };
        let Some(open) = text[start..].find('`').map(|at| start + at) else {
            continue;
        };
        let Some(close) = text[open + 1..].find('`').map(|at| open + 1 + at) else {
            continue;
        };
        text.replace_range(open..=close, "(value hidden)");
    }
    text
}

/// Parses a path id, answering 404 for anything that is not one, exactly
/// as for an id that does not exist.
pub fn parse_id<T: std::str::FromStr>(text: &str) -> Result<T, ApiError> {
    text.parse().map_err(|_not_an_id| ApiError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::without_values;

    #[test]
    fn hides_values_keeps_fields() {
        let hidden = without_values(
            "Json deserialize error: invalid type: integer `987654321987`, expected a string at line 1 column 40",
        );
        assert!(!hidden.contains("987654321987"), "{hidden}");
        assert!(hidden.contains("expected a string"));
        let kept =
            without_values("Json deserialize error: missing field `password` at line 1 column 20");
        assert!(kept.contains("`password`"));
    }
}
