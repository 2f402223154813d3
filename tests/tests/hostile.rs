//! The hostile-client suite: one live server, one normal player playing throughout, and
//! every attack of issue 5 made against it in turn with raw sockets. Each attack's answer
//! is checked (the Bye code and close code the attacker gets, or that its connection is
//! closed), and afterwards that the normal player never went without snapshots beyond
//! normal jitter, that the tick stayed on time, and that memory stayed bounded.
//!
//! It prints a table (attack → server response → the normal player's worst snapshot gap
//! during it) for the release notes. Failures are collected and reported together at the
//! end, so one broken limit does not hide the state of the others.

#[path = "hostile/crowd.rs"]
mod crowd;
#[path = "hostile/ctx.rs"]
mod ctx;
#[path = "hostile/floods.rs"]
mod floods;
#[path = "hostile/malformed.rs"]
mod malformed;
#[path = "hostile/memory.rs"]
mod memory;
#[path = "hostile/player.rs"]
mod player;
#[path = "hostile/rawws.rs"]
mod rawws;
#[path = "hostile/report.rs"]
mod report;
#[path = "hostile/silence.rs"]
mod silence;
#[path = "hostile/tokens.rs"]
mod tokens;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tickwire_server::Config;
use tickwire_tests::{TestServer, test_config};
use tokio::time::Instant;

use crate::ctx::Ctx;
use crate::player::Player;
use crate::report::{Row, metric, print_table};

/// The auth secret of the server under attack: every Hello must carry a token signed
/// with it, so the attacks that get past Hello are made by "legitimate" players.
const SECRET: &str = "hostile-suite-secret-0123456789";

/// Longest the normal player may wait between two snapshots at 30 Hz (33 ms apart), on
/// this 2-core machine with the attacks running in the same process. A session writer
/// stuck behind an attacker shows up as hundreds of milliseconds or more (a stalled tick
/// thread, as overruns). Measured in release builds: 33–40 ms under most attacks.
const GAP_BOUND: Duration = Duration::from_millis(250);

/// The same during the 2000-connection storm, when the server's two worker threads
/// also run 2000 WebSocket handshakes: measured 80–90 ms in release builds on this
/// 2-core machine (120–390 ms before the server's WebSocket read buffer was cut to 4 KiB).
const STORM_GAP_BOUND: Duration = Duration::from_millis(400);

/// The gap bound for a phase; doubled for unoptimized builds, whose handshakes and
/// HMACs are several times slower.
fn gap_bound(phase: &str) -> Duration {
    let bound = if phase.starts_with("2000 connection attempts") {
        STORM_GAP_BOUND
    } else {
        GAP_BOUND
    };
    if cfg!(debug_assertions) {
        bound * 2
    } else {
        bound
    }
}

/// Ticks allowed to start more than a period late over the whole suite.
const OVERRUN_BOUND: f64 = 3.0;

/// Growth of the test process's resident memory allowed over the suite. The server runs
/// in this process, so this covers the attackers' own thousands of sockets too: it is a
/// coarse bound against leaks and unbounded buffering. The server's own memory is
/// bounded tightly on the real binary (see `memory`).
const RSS_GROWTH_BOUND: f64 = 256.0 * 1024.0 * 1024.0;

/// The limits under attack: the defaults, with the timeouts shortened so the suite is
/// quick, a session cap the 2000-connection storm can hit, the per-IP cap applied to
/// loopback, join tokens required and a short resume grace.
fn hostile_config() -> Config {
    Config {
        max_sessions: 150,
        hello_timeout_ms: 1000,
        upgrade_timeout_ms: 1500,
        idle_timeout_ms: 2000,
        limit_loopback: true,
        auth_secret: Some(SECRET.to_owned()),
        resume_grace_secs: 2,
        log_summary_secs: 3600,
        ..test_config()
    }
}

/// Runs one attack as a phase of the normal player's log, named `name` in the table.
async fn phase<F: Future<Output = Row>>(rows: &mut Vec<Row>, name: &'static str, attack: F) {
    let start = Instant::now();
    let mut row = attack.await;
    row.attack = name;
    row.took = start.elapsed();
    println!("{:>6} ms  {}", row.took.as_millis(), row.attack);
    rows.push(row);
}

/// Lowers the calling thread's scheduling priority to the minimum (nice 19), so on this
/// small machine the attackers run in the time the server leaves over, as remote
/// attackers would, instead of taking CPU time from it.
fn deprioritize_this_thread() {
    let Ok(me) = std::fs::read_link("/proc/thread-self") else {
        return;
    };
    let Some(tid) = me.file_name().and_then(|t| t.to_str()) else {
        return;
    };
    let _ = std::process::Command::new("renice")
        .args(["-n", "19", "-p", tid])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

fn runtime(name: &str) -> tokio::runtime::Runtime {
    let nice = name == "attackers";
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .on_thread_start(move || {
            if nice {
                deprioritize_this_thread();
            }
        })
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{name} runtime: {e}"))
}

#[test]
fn hostile_clients_cannot_hurt_the_server_or_a_normal_player() {
    // The server gets a runtime of its own, as it would in its own process; the attackers
    // another, at the lowest priority, as if they were elsewhere; the normal player a
    // thread of its own.
    // The storm holds thousands of sockets open at once (both ends live in this
    // process): lift the soft open-file limit to the hard one, as the binary does.
    let limit = rlimit::increase_nofile_limit(u64::MAX)
        .unwrap_or_else(|e| panic!("cannot read or raise the open-file limit: {e}"));
    println!("open-file limit: {limit} (the storm needs about 4200)");
    let server_rt = runtime("server");
    let attack_rt = runtime("attackers");
    let config = hostile_config();
    let server = Arc::new(server_rt.block_on(TestServer::start(config.clone())));
    let ctx = Ctx {
        addr: server.addr(),
        config,
        secret: SECRET.to_owned(),
        server: Some(server.clone()),
    };
    let suite_start = Instant::now();
    let player = Player::start(server.url(), ctx.token("normal"));
    std::thread::sleep(Duration::from_secs(1));
    let before = ctx.metrics();

    let mut rows = Vec::new();
    attack_rt.block_on(async {
        // In the background of everything else: a player that stops reading but keeps
        // the server writing by acking blindly.
        let blind = tokio::spawn(silence::blind_acker(ctx.clone(), Duration::from_secs(12)));
        macro_rules! run {
            ($name:expr, $attack:expr) => {{
                player.enter($name);
                phase(&mut rows, $name, $attack).await;
            }};
        }
        run!("random bytes", malformed::random_bytes(&ctx));
        run!("truncated messages", malformed::truncated(&ctx));
        run!(
            "length prefixes claiming gigabytes",
            malformed::giant_lengths(&ctx)
        );
        run!("text frames", malformed::text_frames(&ctx));
        run!("frames over the size cap", malformed::oversize(&ctx));
        run!("input flood", floods::input_flood(&ctx));
        run!("chat flood", floods::chat_flood(&ctx));
        run!(
            "connections that never send Hello",
            silence::never_hello(&ctx)
        );
        run!("connections that stop reading", silence::stop_reading(&ctx));
        run!(
            "2000 connection attempts at once",
            crowd::thundering_herd(&ctx)
        );
        run!("too many connections from one address", crowd::per_ip(&ctx));
        run!("foreign web origin", crowd::foreign_origin(&ctx));
        run!("abrupt TCP resets mid-message", crowd::resets(&ctx));
        run!(
            "reconnect storm: bad join tokens",
            tokens::join_token_storm(&ctx)
        );
        run!(
            "reconnect storm: forged, expired, stolen resume tokens",
            tokens::resume_token_storm(&ctx)
        );
        run!(
            "2000 connection attempts at once, server memory",
            memory::herd_memory(&ctx)
        );
        player.enter("stops reading, keeps acking");
        let mut row = blind
            .await
            .unwrap_or_else(|e| panic!("the blind acker panicked: {e}"));
        row.took = Duration::ZERO;
        rows.push(row);
    });
    player.enter("cool-down");
    std::thread::sleep(Duration::from_millis(500));
    let after = ctx.metrics();
    let still_in_world = ctx
        .in_process()
        .latest_snapshot()
        .get(player.entity)
        .is_some();
    let report = player.finish();

    // The normal player's experience.
    let mut verdict = Row::new("normal player");
    verdict.check(report.lost.is_none(), || {
        format!(
            "lost its connection: {}",
            report.lost.clone().unwrap_or_default()
        )
    });
    verdict.check(still_in_world, || {
        "its avatar is gone from the world".into()
    });
    verdict.check(report.desyncs == 0, || {
        format!("{} desyncs", report.desyncs)
    });
    let hz = f64::from(ctx.config.tick_hz);
    let expected = report.played.as_secs_f64() * hz;
    verdict.check(report.snapshots as f64 >= expected * 0.9, || {
        format!(
            "got {} snapshots in {:?}, expected ~{expected:.0}",
            report.snapshots, report.played
        )
    });
    for p in &report.phases {
        verdict.check(p.worst < gap_bound(&p.phase), || {
            format!(
                "waited {} ms for a snapshot during \"{}\"",
                p.worst.as_millis(),
                p.phase
            )
        });
    }
    let flooders: Vec<_> = report
        .chats
        .iter()
        .filter(|(n, _)| n.starts_with(floods::CHAT_FLOODER))
        .collect();
    let allowed_chat = 4 * (ctx.config.chat_burst as usize + 1);
    verdict.check(flooders.len() <= allowed_chat, || {
        format!(
            "{} chat lines from the flooders reached the normal player (at most {allowed_chat})",
            flooders.len()
        )
    });
    verdict.check(
        report
            .chats
            .iter()
            .all(|(_, t)| t.chars().count() <= ctx.config.max_chat_chars),
        || "an over-long chat line reached the normal player".into(),
    );

    // The tick and memory.
    let overruns = metric(&after, "tickwire_tick_overruns_total", "")
        - metric(&before, "tickwire_tick_overruns_total", "");
    verdict.check(overruns <= OVERRUN_BOUND, || {
        format!("{overruns} tick overruns")
    });
    let rss = |t: &str| metric(t, "tickwire_process_resident_memory_bytes", "");
    let growth = rss(&after) - rss(&before);
    verdict.check(growth <= RSS_GROWTH_BOUND, || {
        format!("resident memory grew by {:.0} MiB", growth / 1048576.0)
    });
    verdict.scale = format!(
        "{} snapshots in {:.1} s",
        report.snapshots,
        report.played.as_secs_f64()
    );
    verdict.response = format!(
        "worst gap {} ms, worst RTT {} ms, {} desyncs, {} flooder chat lines seen; \
         tick overruns +{overruns}; RSS {:.0} → {:.0} MiB",
        report.worst_gap().as_millis(),
        report.worst_rtt.map_or(0, |r| r.as_millis()),
        report.desyncs,
        flooders.len(),
        rss(&before) / 1048576.0,
        rss(&after) / 1048576.0,
    );
    rows.push(verdict);

    print_table(&rows, |attack| match attack {
        "normal player" => format!("{} ms", report.worst_gap().as_millis()),
        silence::BLIND => "(runs alongside the first attacks)".to_owned(),
        _ => report
            .gap_in(attack)
            .map_or("(took under a tick)".to_owned(), |g| {
                format!("{} ms", g.as_millis())
            }),
    });
    for p in &report.phases {
        println!(
            "{:>5} snapshots, worst gap {:>4} ms  {}",
            p.snapshots,
            p.worst.as_millis(),
            p.phase
        );
    }
    println!(
        "suite wall time: {:.1} s",
        suite_start.elapsed().as_secs_f64()
    );

    drop(ctx);
    let server = Arc::try_unwrap(server).unwrap_or_else(|_| panic!("the server is still shared"));
    server_rt.block_on(server.stop());

    let failures: Vec<String> = rows
        .iter()
        .flat_map(|r| r.failures.iter().map(move |f| format!("{}: {f}", r.attack)))
        .collect();
    for (phrase, cause) in report::KNOWN_GAPS {
        if failures.iter().any(|f| f.contains(phrase)) {
            println!("KNOWN GAP (not failing the suite): {phrase}: {cause}");
        } else {
            println!("known gap \"{phrase}\" no longer seen: delete it from KNOWN_GAPS");
        }
    }
    let unknown: Vec<&String> = failures
        .iter()
        .filter(|f| report::known_gap(f).is_none())
        .collect();
    assert!(
        unknown.is_empty(),
        "{} failures:\n{}",
        unknown.len(),
        unknown
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}
