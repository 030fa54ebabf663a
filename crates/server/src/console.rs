//! `/console/`: the coordinator console's files (crate `corridor-console`), served from the
//! binary with headers that keep the page to its own scripts and its own server.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::problem::Problem;

/// `GET /console`: the console lives at `/console/` (its scripts load relative to it).
pub async fn redirect() -> Redirect {
    Redirect::permanent("/console/")
}

/// `GET /console/`: the page.
pub async fn index() -> Response {
    serve("")
}

/// `GET /console/{*path}`: a script or style sheet of the page.
pub async fn file(Path(path): Path<String>) -> Response {
    serve(&path)
}

fn serve(path: &str) -> Response {
    let Some(asset) = corridor_console::asset(path) else {
        return Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("the console has no file {path:?}; open /console/"),
        )
        .into_response();
    };
    (
        [
            (header::CONTENT_TYPE, asset.content_type),
            (
                header::CONTENT_SECURITY_POLICY,
                corridor_console::CONTENT_SECURITY_POLICY,
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            // Always ask: a console that signs must not run yesterday's script.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        asset.bytes,
    )
        .into_response()
}
