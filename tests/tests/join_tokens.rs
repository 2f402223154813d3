//! End to end with the real binary: with `--auth-secret`, a token minted by the
//! `tickwire token` command is accepted (and names the player), while a missing, forged or
//! expired token is refused with `AuthFailed` and a reason that says which.

use std::process::Command;

use tickwire_client::{Client, ClientError, ConnectOptions};
use tickwire_shared::ByeCode;
use tickwire_tests::{ServerProcess, tickwire_binary};

const SECRET: &str = "a-test-secret-of-decent-length";

fn mint(secret: &str, name: &str, ttl: &str) -> String {
    let out = Command::new(tickwire_binary())
        .args(["token", "--secret", secret, "--name", name, "--ttl", ttl])
        .output()
        .unwrap_or_else(|e| panic!("cannot run `tickwire token`: {e}"));
    assert!(
        out.status.success(),
        "`tickwire token` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("the token is text")
        .trim()
        .to_owned()
}

async fn refusal(url: &str, options: ConnectOptions) -> (ByeCode, String) {
    match Client::connect(url, options).await {
        Err(ClientError::Refused { code, reason }) => (code, reason),
        Err(e) => panic!("expected a refusal with a reason, got {e}"),
        Ok(_) => panic!("expected a refusal, got a Welcome"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_from_the_token_command_are_accepted_and_bad_ones_refused() {
    let process = ServerProcess::start(&["--auth-secret", SECRET]);
    let url = process.url();

    let token = mint(SECRET, "ann", "1h");
    let mut ann = Client::connect(&url, ConnectOptions::new("ignored").auth(token.clone()))
        .await
        .unwrap_or_else(|e| panic!("a token from `tickwire token` was refused: {e}"));
    let me = ann.welcome().entity;
    tickwire_tests::wait_for(
        &mut ann,
        std::time::Duration::from_secs(5),
        "ann's avatar",
        |c, _| {
            c.mirror()
                .get::<tickwire_server::games::components::Player>(me)
                .is_some_and(|p| &*p.name == "ann")
        },
    )
    .await;

    let (code, reason) = refusal(&url, ConnectOptions::new("bob")).await;
    assert_eq!(code, ByeCode::AuthFailed);
    assert!(reason.contains("requires a join token"), "{reason}");

    let forged = mint("some-other-secret-entirely", "bob", "1h");
    let (code, reason) = refusal(&url, ConnectOptions::new("bob").auth(forged)).await;
    assert_eq!(code, ByeCode::AuthFailed);
    assert!(reason.contains("signature is invalid"), "{reason}");

    let expired = mint(SECRET, "bob", "0s");
    let (code, reason) = refusal(&url, ConnectOptions::new("bob").auth(expired)).await;
    assert_eq!(code, ByeCode::AuthFailed);
    assert!(reason.contains("expired"), "{reason}");

    let altered = token.replacen("v1.", "v1.9", 1);
    let (code, _) = refusal(&url, ConnectOptions::new("bob").auth(altered)).await;
    assert_eq!(code, ByeCode::AuthFailed);
    drop(process);
}
