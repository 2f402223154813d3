//! The browser demo, served at `/` from files built into the binary.

use axum::Router;
use axum::response::Html;
use axum::routing::get;

/// Routes serving the browser client.
pub fn router() -> Router {
    Router::new().route(
        "/",
        get(|| async { Html("<!doctype html><title>Tickwire</title><p>Tickwire server</p>") }),
    )
}
