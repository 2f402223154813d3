//! Recordings for the replay tests: a scratch directory, the recording a server wrote
//! there, and a short match recorded in process.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tickwire_server::Config;
use tickwire_server::games::controls::{Controls, DOWN, FIRE, LEFT, RIGHT, UP};

use crate::server::{TestServer, test_config};

/// A fresh, empty directory for one test's recordings.
///
/// # Panics
/// When the temporary directory cannot be written.
#[must_use]
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tickwire-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// The one recording in `dir`.
///
/// # Panics
/// When there is none, or more than one.
#[must_use]
pub fn the_recording(dir: &Path) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "twrec"))
        .collect();
    assert_eq!(
        files.len(),
        1,
        "one recording in {}: {files:?}",
        dir.display()
    );
    files[0].clone()
}

/// Records four seconds of the demo, three players moving and firing, into `dir` (an
/// in-process server with `record` set); returns the file.
///
/// # Panics
/// When a client cannot connect or send, or no single recording results.
pub async fn record_a_short_match(dir: &Path) -> PathBuf {
    let server = TestServer::start(Config {
        record: Some(dir.to_owned()),
        ..test_config()
    })
    .await;
    let mut clients = Vec::new();
    for name in ["ann", "bob", "cy"] {
        clients.push(server.connect(name).await);
    }
    let plan = [UP, RIGHT | FIRE, DOWN, LEFT | FIRE];
    for step in 0..16u16 {
        for (i, c) in clients.iter_mut().enumerate() {
            let keys = plan[(usize::from(step) + i) % plan.len()];
            c.send_input(&Controls::new(keys, step.wrapping_mul(4000)))
                .await
                .unwrap_or_else(|e| panic!("sending an input: {e}"));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    for mut c in clients {
        c.close().await.unwrap_or_else(|e| panic!("closing: {e}"));
    }
    server.stop().await;
    the_recording(dir)
}
