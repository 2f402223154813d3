//! The browser client, served at `/` from files built into the binary: it plays any
//! game from the schema in Welcome (the built-in games with their own look, others with
//! the generic renderer).
//!
//! Every file of `client-demo/web/` that the page loads is embedded at compile time
//! (`include_bytes!`), so `cargo run --release` serves the demo from any working
//! directory and a binary copied elsewhere still carries it. A test keeps the list below
//! equal to the files on disk, so a new module cannot be forgotten.

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// Its path under `client-demo/web/`, which is also its URL path after `/`.
    pub path: &'static str,
    /// Its bytes.
    pub bytes: &'static [u8],
}

macro_rules! assets {
    ($($path:literal),* $(,)?) => {
        &[$(Asset {
            path: $path,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../client-demo/web/", $path)),
        }),*]
    };
}

/// The page and its modules. Tests, `package.json` and tooling stay out of the binary.
pub const ASSETS: &[Asset] = assets![
    "index.html",
    "dashboard.html",
    "style.css",
    "js/acker.js",
    "js/bincode.js",
    "js/canvas-view.js",
    "js/checksum.js",
    "js/clock.js",
    "js/clock-sync.js",
    "js/codec.js",
    "js/dashboard.js",
    "js/demo.js",
    "js/effects.js",
    "js/flat.js",
    "js/frame.js",
    "js/game.js",
    "js/generic.js",
    "js/hud.js",
    "js/input.js",
    "js/interp.js",
    "js/layout.js",
    "js/lobby.js",
    "js/main.js",
    "js/mirror.js",
    "js/net.js",
    "js/packed.js",
    "js/predict.js",
    "js/render-generic.js",
    "js/render.js",
    "js/replay.js",
    "js/schema-wire.js",
    "js/schema.js",
    "js/sender.js",
    "js/snapshot-body.js",
    "js/stats.js",
    "js/world.js",
];

/// The Content-Type for a file name, by extension.
#[must_use]
pub fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

/// A strong validator for an asset: FNV-1a of its bytes, so an unchanged file is
/// answered with 304 and a rebuilt binary never serves a stale cached copy.
fn etag(bytes: &[u8]) -> String {
    let h = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("\"{h:016x}\"")
}

/// The response for `asset` to a request with `headers`.
#[must_use]
pub fn respond(asset: &'static Asset, headers: &HeaderMap) -> Response {
    let tag = etag(asset.bytes);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag));
    let mut common = HeaderMap::new();
    common.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    common.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(v) = HeaderValue::from_str(&tag) {
        common.insert(header::ETAG, v);
    }
    if fresh {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    common.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(asset.path)),
    );
    (StatusCode::OK, common, asset.bytes).into_response()
}

/// Routes serving the browser client: `/` (the page), `/dashboard` (the rooms and their
/// feeds) and `/<path>` for each asset.
pub fn router() -> Router {
    let mut router = Router::new();
    for asset in ASSETS {
        let handler = get(move |headers: HeaderMap| async move { respond(asset, &headers) });
        if asset.path == "index.html" {
            router = router.route("/", handler.clone());
        }
        if asset.path == "dashboard.html" {
            router = router.route("/dashboard", handler.clone());
        }
        router = router.route(&format!("/{}", asset.path), handler);
    }
    router
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn web_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../client-demo/web")
    }

    /// Files the page may load: everything under web/ except tests, package files and
    /// dotfiles.
    fn servable(dir: &Path, prefix: &str, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.')
                || matches!(
                    name.as_str(),
                    "test" | "node_modules" | "package.json" | "package-lock.json"
                )
            {
                continue;
            }
            let rel = format!("{prefix}{name}");
            if entry.path().is_dir() {
                servable(&entry.path(), &format!("{rel}/"), out);
            } else {
                out.push(rel);
            }
        }
    }

    #[test]
    fn every_file_of_the_page_is_embedded_and_nothing_else() {
        let mut on_disk = Vec::new();
        servable(&web_dir(), "", &mut on_disk);
        on_disk.sort();
        let mut embedded: Vec<String> = ASSETS.iter().map(|a| a.path.to_owned()).collect();
        embedded.sort();
        assert_eq!(
            embedded, on_disk,
            "server/src/web.rs ASSETS must list client-demo/web's files"
        );
    }

    #[test]
    fn modules_get_a_javascript_type_and_unchanged_files_a_304() {
        let main = ASSETS
            .iter()
            .find(|a| a.path == "js/main.js")
            .expect("main.js embedded");
        let ok = respond(main, &HeaderMap::new());
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(
            ok.headers()[header::CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        let tag = ok.headers()[header::ETAG].clone();
        let mut again = HeaderMap::new();
        again.insert(header::IF_NONE_MATCH, tag);
        assert_eq!(respond(main, &again).status(), StatusCode::NOT_MODIFIED);
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("style.css"), "text/css; charset=utf-8");
    }
}
