//! End to end over TLS: a server started with a self-signed certificate made here serves
//! wss and https on one port. A client that trusts the certificate plays (Hello, Welcome,
//! snapshots mirrored and verified, its own entity moves); https `/healthz` answers; plain
//! ws:// to that port is refused; a client that never finishes its handshake holds up
//! nobody and is dropped at the deadline; and a bad certificate path stops
//! `Server::start` with an error naming the file. The client library plays over wss
//! trusting a CA file (and refuses the server without it), and the `bots` and `soak`
//! tools run against the real binary serving TLS and requiring join tokens.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tickwire_client::{Client, ClientError, ConnectOptions, TlsTrust};
use tickwire_server::games::components::Body;
use tickwire_server::games::controls::{Controls, LEFT, RIGHT};
use tickwire_server::games::demo::Demo;
use tickwire_server::{Config, Server, ServerError, TlsError};
use tickwire_shared::codec::{decode_server, encode_client, encode_value};
use tickwire_shared::{
    ClientMsg, InputSeq, Mirror, NetId, PROTOCOL_VERSION, Schema, ServerMsg, SnapshotBody,
    SnapshotHeader, Welcome,
};
use tickwire_tests::demo_config;
use tickwire_tests::{
    ServerProcess, TestServer, run_to_end, test_config, wait_for, within, workspace_binary,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

/// How long any single expected step may take.
const STEP: Duration = Duration::from_secs(5);

type Wss = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A self-signed certificate for `localhost` and `127.0.0.1`, with its key, written as PEM
/// files into a scratch directory that is removed on drop.
struct Identity {
    /// The scratch directory.
    dir: PathBuf,
    /// The certificate's PEM file.
    cert: PathBuf,
    /// The key's PEM file.
    key: PathBuf,
    /// The certificate, for the client's root store.
    der: CertificateDer<'static>,
}

impl Identity {
    fn new(test: &str) -> Identity {
        let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        let made = rcgen::generate_simple_self_signed(names)
            .unwrap_or_else(|e| panic!("generating a self-signed certificate failed: {e}"));
        let dir =
            std::env::temp_dir().join(format!("tickwire-tls-e2e-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {dir:?}: {e}"));
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        std::fs::write(&cert, made.cert.pem()).unwrap_or_else(|e| panic!("writing: {e}"));
        std::fs::write(&key, made.signing_key.serialize_pem())
            .unwrap_or_else(|e| panic!("writing: {e}"));
        Identity {
            dir,
            cert,
            key,
            der: made.cert.der().clone(),
        }
    }

    /// The test config, serving TLS with this identity.
    fn server_config(&self) -> Config {
        Config {
            tls_cert: Some(self.cert.clone()),
            tls_key: Some(self.key.clone()),
            ..test_config()
        }
    }

    /// A client config that trusts this certificate and nothing else.
    fn client_config(&self) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots
            .add(self.der.clone())
            .unwrap_or_else(|e| panic!("the test certificate is not a valid root: {e}"));
        let config = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap_or_else(|e| panic!("client TLS setup: {e}"))
            .with_root_certificates(roots)
            .with_no_client_auth();
        Arc::new(config)
    }
}

impl Drop for Identity {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Opens a WebSocket over TLS to `addr`, trusting only what `tls` trusts.
async fn connect_wss(addr: SocketAddr, tls: Arc<ClientConfig>) -> Wss {
    let url = format!("wss://{addr}/ws");
    let connect = tokio_tungstenite::connect_async_tls_with_config(
        &url,
        None,
        true,
        Some(Connector::Rustls(tls)),
    );
    let (ws, _) = within(STEP, "the wss connection", connect)
        .await
        .unwrap_or_else(|e| panic!("wss connect to {url} failed: {e}"));
    ws
}

async fn send(ws: &mut Wss, msg: &ClientMsg) {
    within(
        STEP,
        "a send",
        ws.send(Message::Binary(encode_client(msg).into())),
    )
    .await
    .unwrap_or_else(|e| panic!("sending {msg:?} failed: {e}"));
}

/// Says Hello as `name` and returns the own entity, the arena width and the schema from
/// Welcome.
async fn join(ws: &mut Wss, name: &str) -> (NetId, f32, Arc<Schema>) {
    let hello = ClientMsg::Hello {
        protocol: PROTOCOL_VERSION,
        name: name.to_owned(),
        resume: None,
        auth: None,
    };
    send(ws, &hello).await;
    match recv(ws).await {
        ServerMsg::Welcome(Welcome { entity, schema, .. }) => {
            let width = schema.param("width").unwrap_or(0.0) as f32;
            (entity, width, schema)
        }
        other => panic!("expected Welcome, got {other:?}"),
    }
}

/// GETs `path` over https with a hand-written HTTP/1.1 request and returns the whole
/// response, headers included.
async fn https_get(addr: SocketAddr, tls: Arc<ClientConfig>, path: &str) -> String {
    let connector = TlsConnector::from(tls);
    within(STEP, "an https GET", async {
        let tcp = TcpStream::connect(addr).await?;
        let name = ServerName::try_from("localhost").map_err(std::io::Error::other)?;
        let mut tls = connector.connect(name, tcp).await?;
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        tls.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        tls.read_to_end(&mut response).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&response).into_owned())
    })
    .await
    .unwrap_or_else(|e| panic!("https GET {path} from {addr} failed: {e}"))
}

/// The server's next protocol message, skipping control frames.
async fn recv(ws: &mut Wss) -> ServerMsg {
    within(STEP, "the server's next message", async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Binary(bytes))) => {
                    return decode_server(&bytes)
                        .unwrap_or_else(|e| panic!("undecodable server message: {e}"));
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                other => panic!("expected a server message, got {other:?}"),
            }
        }
    })
    .await
}

/// The next snapshot, skipping other messages.
async fn next_snapshot(ws: &mut Wss) -> (SnapshotHeader, SnapshotBody) {
    loop {
        if let ServerMsg::Snapshot { header, body } = recv(ws).await {
            return (header, body);
        }
    }
}

/// Reads, verifies and acks snapshots into `mirror` until one has applied input `seq`.
async fn play_until_acked(ws: &mut Wss, mirror: &mut Mirror, seq: InputSeq) {
    loop {
        let applied = play_one(ws, mirror).await;
        if applied.0 >= seq.0 {
            return;
        }
    }
}

/// Reads the next snapshot, applies it to `mirror` (which verifies its checksum), acks it,
/// and returns the input seq it says was applied.
async fn play_one(ws: &mut Wss, mirror: &mut Mirror) -> InputSeq {
    let (header, body) = next_snapshot(ws).await;
    mirror
        .apply(header.tick, header.baseline, &body)
        .unwrap_or_else(|e| panic!("snapshot {} did not apply: {e}", header.tick));
    send(ws, &ClientMsg::Ack { tick: header.tick }).await;
    header.input_ack
}

/// The own entity's x in world units.
fn own_x(mirror: &Mirror, me: NetId) -> f32 {
    mirror
        .get::<Body>(me)
        .unwrap_or_else(|| panic!("the own entity {me} is not in the mirror"))
        .x
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_plays_over_wss_while_another_stalls_its_handshake() {
    let id = Identity::new("play");
    let server = TestServer::start(id.server_config()).await;

    // A client that opens TCP and never says a word: its handshake must hold up nobody.
    let _silent = TcpStream::connect(server.addr())
        .await
        .unwrap_or_else(|e| panic!("connecting the silent client: {e}"));

    let mut ws = connect_wss(server.addr(), id.client_config()).await;
    let (me, width, schema) = join(&mut ws, "tls").await;

    let mut mirror = Mirror::new(schema);
    for _ in 0..5 {
        play_one(&mut ws, &mut mirror).await;
    }
    let start = own_x(&mirror, me);

    // Walk away from the nearer side wall for a moment, then stop.
    let (button, direction) = if start < width / 2.0 {
        (RIGHT, 1.0)
    } else {
        (LEFT, -1.0)
    };
    let go = ClientMsg::Input {
        seq: InputSeq(1),
        data: encode_value(&Controls::new(button, 0)),
        ack: None,
        view: None,
    };
    send(&mut ws, &go).await;
    play_until_acked(&mut ws, &mut mirror, InputSeq(1)).await;
    // Half a second of walking at 30 Hz.
    for _ in 0..15 {
        play_one(&mut ws, &mut mirror).await;
    }
    let moved = (own_x(&mirror, me) - start) * direction;
    println!("over wss the own entity moved {moved:.1} units from x = {start:.1}");
    assert!(
        moved > 10.0,
        "the own entity should have moved away from x = {start} (moved {moved})"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_serves_healthz_and_plain_ws_is_refused() {
    let id = Identity::new("https");
    let server = TestServer::start(id.server_config()).await;

    let response = https_get(server.addr(), id.client_config(), "/healthz").await;
    assert!(
        response.starts_with("HTTP/1.1 200") && response.contains("ok tick="),
        "unexpected /healthz answer over https: {response:?}"
    );

    // Plain ws:// to the TLS port: the server reads an HTTP request where a ClientHello
    // belongs, and the connection fails instead of hanging.
    let plain = format!("ws://{}/ws", server.addr());
    let outcome = within(
        STEP,
        "the plain ws:// attempt",
        tokio_tungstenite::connect_async(&plain),
    )
    .await;
    assert!(
        outcome.is_err(),
        "a plain ws:// connection to the TLS port succeeded"
    );

    // The refused handshake is counted.
    within(STEP, "the failed handshake to be counted", async {
        while !server
            .server()
            .metrics_text()
            .contains("reason=\"tls_handshake\"")
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_https_and_wss_with_the_tls_flags() {
    let id = Identity::new("binary");
    let (cert, key) = (id.cert.to_string_lossy(), id.key.to_string_lossy());
    let process = ServerProcess::start(&["--tls-cert", &cert, "--tls-key", &key]);
    let response = https_get(process.addr(), id.client_config(), "/healthz").await;
    assert!(
        response.starts_with("HTTP/1.1 200"),
        "unexpected /healthz answer from the binary over https: {response:?}"
    );
    let mut ws = connect_wss(process.addr(), id.client_config()).await;
    join(&mut ws, "bin").await;
    next_snapshot(&mut ws).await;
}

#[tokio::test]
async fn a_missing_certificate_stops_the_server_with_a_clear_error() {
    let id = Identity::new("missing");
    let missing = id.dir.join("no-such-cert.pem");
    let config = Config {
        tls_cert: Some(missing.clone()),
        ..id.server_config()
    };
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("cannot bind 127.0.0.1:0: {e}"));
    let err = match Server::start::<Demo>(listener, config, demo_config(), CancellationToken::new())
    {
        Ok(_) => panic!("the server started with a missing certificate"),
        Err(e) => e,
    };
    assert!(
        matches!(
            err,
            ServerError::Tls(TlsError::Read {
                what: "certificate",
                ..
            })
        ),
        "unexpected error: {err:?}"
    );
    let text = err.to_string();
    println!("Server::start said: {text}");
    assert!(
        text.contains(&*missing.to_string_lossy()) && text.contains("certificate"),
        "the error should name the file: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_library_plays_over_wss_trusting_a_ca_file_and_refuses_an_unknown_one() {
    let id = Identity::new("library");
    let server = TestServer::start(id.server_config()).await;
    let url = format!("wss://{}/ws", server.addr());

    // Without the certificate among its roots, the client refuses the server.
    let refused = Client::connect(&url, ConnectOptions::new("wary")).await;
    let err = refused
        .map(|_| ())
        .expect_err("an untrusted certificate must be refused");
    println!("an untrusted server: {err}");
    assert!(
        err.to_string().contains("certificate") || matches!(err, ClientError::Tls(_)),
        "the refusal names the certificate problem: {err}"
    );

    let trust = TlsTrust::with_ca_file(&id.cert)
        .unwrap_or_else(|e| panic!("trusting the test certificate: {e}"));
    let mut client = Client::connect(&url, ConnectOptions::new("tls-lib").tls(trust))
        .await
        .unwrap_or_else(|e| panic!("connecting over wss with the CA file: {e}"));
    let me = client.welcome().entity;
    wait_for(&mut client, STEP, "the own entity", |c, _| {
        c.mirror().entity(me).is_some()
    })
    .await;
    let start = client.mirror().get::<Body>(me).map_or(0.0, |b| b.x);
    let width = client.welcome().schema.param("width").unwrap_or(0.0) as f32;
    let (button, direction) = if start < width / 2.0 {
        (RIGHT, 1.0)
    } else {
        (LEFT, -1.0)
    };
    client
        .send_input(&Controls::new(button, 0))
        .await
        .unwrap_or_else(|e| panic!("sending an input over wss: {e}"));
    wait_for(&mut client, STEP, "the own entity to move", |c, _| {
        c.mirror()
            .get::<Body>(me)
            .is_some_and(|b| (b.x - start) * direction > 10.0)
    })
    .await;
    assert_eq!(client.stats().desyncs, 0, "every snapshot verified");
    server.stop().await;
}

/// Runs a workspace tool to completion (bounded by `limit`) and returns its output. The
/// auth secret comes only from the arguments, never from the environment.
fn run_tool(name: &str, args: &[&str], limit: Duration) -> std::process::Output {
    let mut command = std::process::Command::new(workspace_binary(name));
    command.args(args).env_remove("TICKWIRE_AUTH_SECRET");
    run_to_end(command, limit)
}

#[test]
fn bots_and_soak_play_a_tls_server_that_requires_join_tokens() {
    const SECRET: &str = "tools-over-tls-secret-0123456789";
    let id = Identity::new("tools");
    let (cert, key) = (id.cert.to_string_lossy(), id.key.to_string_lossy());
    let process = ServerProcess::start(&[
        "--tls-cert",
        &cert,
        "--tls-key",
        &key,
        "--auth-secret",
        SECRET,
    ]);
    let url = format!("wss://{}/ws", process.addr());
    let stats_url = format!("https://{}/stats", process.addr());

    // Without the secret every bot is refused, and `bots` says so by failing.
    let denied = run_tool(
        "bots",
        &[
            "--url",
            &url,
            "--count",
            "2",
            "--duration",
            "2s",
            "--ca-cert",
            &cert,
            "--json",
            "--progress-every",
            "0",
        ],
        Duration::from_secs(30),
    );
    assert!(
        !denied.status.success(),
        "bots without the secret must fail"
    );

    let out = run_tool(
        "bots",
        &[
            "--url",
            &url,
            "--count",
            "5",
            "--duration",
            "4s",
            "--ca-cert",
            &cert,
            "--auth-secret",
            SECRET,
            "--json",
            "--progress-every",
            "0",
        ],
        Duration::from_secs(60),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bots over wss failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("bots printed no JSON summary ({e}): {stdout}"));
    assert_eq!(summary["bots_connected"], 5, "{summary:#}");
    assert_eq!(summary["desyncs"], 0, "{summary:#}");

    let dir = std::env::temp_dir().join(format!("tickwire-tls-soak-{}", std::process::id()));
    let dir_text = dir.to_string_lossy().into_owned();
    let out = run_tool(
        "soak",
        &[
            "--url",
            &url,
            "--stats-url",
            &stats_url,
            "--bots",
            "5",
            "--duration",
            "6s",
            "--ca-cert",
            &cert,
            "--auth-secret",
            SECRET,
            "--report",
            &dir_text,
            "--quiet",
            // This run checks the access. Seconds are too short to judge memory growth,
            // and tick timing is the soak test's to judge, on a machine this binary's
            // other tests (TLS handshakes, certificate generation) are not sharing.
            "--max-rss-growth-pct",
            "1000",
            "--max-tick-p99-ms",
            "1000",
            "--max-lateness-p99-ms",
            "1000",
        ],
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "soak over wss/https failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.join("summary.json"))
        .unwrap_or_else(|e| panic!("soak wrote no summary.json: {e}"));
    let soak: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("summary.json: {e}"));
    assert_eq!(soak["passed"], true, "{soak:#}");
    let _ = std::fs::remove_dir_all(&dir);
}
