//! The browser client: `index.html` for every page path, and the files
//! under `/static/`.

use std::path::{Component, Path, PathBuf};

use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

use crate::error::ApiError;

use crate::state::AppState;

/// Serves the client's page for any path outside the API; an unknown API
/// path gets the JSON 404 every API client expects.
pub async fn index(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    if request.path().starts_with("/api/") {
        return ApiError::NotFound.error_response();
    }
    serve_file(&state.config.web_dir.join("index.html")).await
}

pub async fn asset(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    match safe_join(&state.config.web_dir, &path) {
        Some(file) => serve_file(&file).await,
        None => HttpResponse::NotFound().finish(),
    }
}

/// Joins a request path under the web folder, rejecting `..`, absolute
/// paths and hidden files.
fn safe_join(root: &Path, request: &str) -> Option<PathBuf> {
    let relative = Path::new(request);
    let clean = relative.components().all(|part| match part {
        Component::Normal(name) => !name.to_string_lossy().starts_with('.'),
        _ => false,
    });
    clean.then(|| root.join(relative))
}

async fn serve_file(path: &Path) -> HttpResponse {
    match tokio::fs::read(path).await {
        Ok(bytes) => HttpResponse::Ok()
            .content_type(content_type(path))
            .body(bytes),
        Err(_missing) => HttpResponse::NotFound().finish(),
    }
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|ext| ext.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_escapes() {
        let root = Path::new("/srv/web");
        assert!(safe_join(root, "app.js").is_some());
        assert!(safe_join(root, "i18n/en-GB.json").is_some());
        assert!(safe_join(root, "../secret").is_none());
        assert!(safe_join(root, "/etc/passwd").is_none());
        assert!(safe_join(root, ".git/config").is_none());
    }
}
