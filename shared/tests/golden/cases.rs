//! The golden cases: example messages covering every variant, and world states whose
//! deltas exercise spawns, every update field combination, extreme values and despawns.

use tickwire_shared::{
    ArenaInfo, ClientMsg, Entity, EntityKind, EntityState, GameEvent, InputSeq, NetId,
    PROTOCOL_VERSION, PlayerId, ServerMsg, SnapshotBody, SnapshotHeader, Tick, View, WorldSnapshot,
    diff,
};

use crate::forms::{ALL_BYE, bye_name};

fn ent(id: u32, kind: EntityKind, owner: Option<u32>, name: &str, xy: (i32, i32)) -> Entity {
    Entity {
        id: NetId(id),
        state: EntityState {
            kind,
            owner: owner.map(PlayerId),
            name: name.into(),
            x: xy.0,
            y: xy.1,
            angle: 0,
            score: 0,
            hp: 3,
        },
    }
}

/// Three world states whose deltas exercise spawns, every update field combination,
/// wrapping and extreme values, despawns, respawn-by-identity-change and id gaps that
/// need multi-byte varints.
pub fn worlds() -> [WorldSnapshot; 4] {
    let mut a = vec![
        ent(0, EntityKind::Player, Some(1), "ann", (16_000, 9_600)),
        ent(1, EntityKind::Player, Some(2), "Zoë ✓", (-32, -1)),
        ent(2, EntityKind::Orb, None, "", (4_000, 4_000)),
        ent(3, EntityKind::Projectile, Some(1), "", (16_100, 9_600)),
        ent(7, EntityKind::Cube, None, "", (i32::MAX, i32::MIN)),
        ent(250, EntityKind::Orb, None, "", (1, 2)),
        ent(300, EntityKind::Orb, None, "", (65_535, 65_536)),
        ent(70_000, EntityKind::Orb, None, "", (-70_000, 123_456_789)),
    ];
    a[0].state.score = 12;
    a[0].state.angle = 255;
    a[0].state.hp = 255;
    a[1].state.score = -5;
    a[4].state.score = i32::MIN;
    a[4].state.hp = 0;
    let wa = WorldSnapshot::new(Tick(1_000), a.clone());

    let mut b = a.clone();
    b[0].state.x += 7; // x only
    b[1].state.y -= 300; // y only, multi-byte
    b[2].state.angle = 3; // angle only
    b[5].state.score = 1; // score only
    b[6].state.hp = 1; // hp only
    b[7].state.x = 70_000; // every field, big deltas
    b[7].state.y = -123_456_789;
    b[7].state.angle = 200;
    b[7].state.score = i32::MAX;
    b[7].state.hp = 0;
    b[4].state.x = i32::MIN; // wrapping delta
    b[4].state.y = i32::MAX;
    b[4].state.angle = 128;
    b.remove(3); // projectile despawned
    b.push(ent(4, EntityKind::Projectile, Some(2), "", (0, 0)));
    b.push(ent(1_000_000, EntityKind::Orb, None, "", (5, 5)));
    let wb = WorldSnapshot::new(Tick(1_001), b.clone());

    let mut c = b.clone();
    c.retain(|e| e.id != NetId(250) && e.id != NetId(1_000_000));
    for e in &mut c {
        if e.id == NetId(0) {
            e.state.x -= 3;
            e.state.y += 1;
            e.state.angle = 0; // 255 → 0 wraps to +1
        }
        if e.id == NetId(2) {
            // Same id, new identity: sent as a spawn, not an update.
            e.state.kind = EntityKind::Cube;
        }
    }
    c.push(ent(5, EntityKind::Player, Some(3), "bot-12", (800, 800)));
    let wc = WorldSnapshot::new(Tick(1_003), c);
    let wd = WorldSnapshot::new(Tick(1_004), wc.entities.clone());
    [wa, wb, wc, wd]
}

fn snapshot(tick: Tick, baseline: Option<Tick>, ack: u32, body: SnapshotBody) -> ServerMsg {
    ServerMsg::Snapshot {
        header: SnapshotHeader {
            tick,
            baseline,
            input_ack: InputSeq(ack),
        },
        body,
    }
}

pub fn client_vectors() -> Vec<(&'static str, ClientMsg)> {
    vec![
        (
            "hello",
            ClientMsg::Hello {
                protocol: PROTOCOL_VERSION,
                name: "ann".into(),
                resume: None,
                auth: None,
            },
        ),
        (
            "hello_resume_auth_unicode",
            ClientMsg::Hello {
                protocol: 300,
                name: "Zoë ✓ 🚀".into(),
                resume: Some(tickwire_shared::Resume {
                    token: "3f2a-resume".into(),
                    tick: Some(Tick(70_000)),
                }),
                auth: Some("a".repeat(260)),
            },
        ),
        (
            "input_small",
            ClientMsg::Input {
                seq: InputSeq(1),
                buttons: 9,
                aim: 0,
            },
        ),
        (
            "input_fire_250",
            ClientMsg::Input {
                seq: InputSeq(250),
                buttons: 16,
                aim: 250,
            },
        ),
        (
            "input_251",
            ClientMsg::Input {
                seq: InputSeq(251),
                buttons: 31,
                aim: 251,
            },
        ),
        (
            "input_max",
            ClientMsg::Input {
                seq: InputSeq(u32::MAX),
                buttons: 255,
                aim: u16::MAX,
            },
        ),
        ("ack_zero", ClientMsg::Ack { tick: Tick(0) }),
        ("ack_65536", ClientMsg::Ack { tick: Tick(65_536) }),
        ("ping_zero", ClientMsg::Ping { client_time: 0 }),
        (
            "ping_u32_edge",
            ClientMsg::Ping {
                client_time: u64::from(u32::MAX) + 1,
            },
        ),
        (
            "ping_max",
            ClientMsg::Ping {
                client_time: u64::MAX,
            },
        ),
        (
            "chat",
            ClientMsg::Chat {
                text: "gg — nice shot! 🎯".into(),
            },
        ),
        (
            "chat_empty",
            ClientMsg::Chat {
                text: String::new(),
            },
        ),
    ]
}

pub fn server_vectors() -> Vec<(String, ServerMsg)> {
    let [wa, wb, wc, wd] = worlds();
    let mut v: Vec<(String, ServerMsg)> = vec![
        (
            "welcome".into(),
            ServerMsg::Welcome {
                player: PlayerId(1),
                entity: NetId(0),
                tick_hz: 30,
                tick: Tick(999),
                resume_token: "3f2a-resume".into(),
                arena: ArenaInfo {
                    scenario: "demo".into(),
                    width: 2_000,
                    height: 1_200,
                    player_speed: 220,
                    player_radius: 18,
                    view_radius: 0,
                },
            },
        ),
        (
            "welcome_big".into(),
            ServerMsg::Welcome {
                player: PlayerId(u32::MAX),
                entity: NetId(70_000),
                tick_hz: 65_535,
                tick: Tick(u32::MAX),
                resume_token: String::new(),
                arena: ArenaInfo {
                    scenario: "crowd".into(),
                    width: 4_000,
                    height: 4_000,
                    player_speed: 100,
                    player_radius: 251,
                    view_radius: 600,
                },
            },
        ),
        (
            "snapshot_full".into(),
            snapshot(wa.tick, None, 0, diff(None, &wa, View::All)),
        ),
        (
            "snapshot_delta".into(),
            snapshot(
                wb.tick,
                Some(wa.tick),
                251,
                diff(Some((&wa, View::All)), &wb, View::All),
            ),
        ),
        (
            "snapshot_coalesced".into(),
            snapshot(
                wc.tick,
                Some(wb.tick),
                70_000,
                diff(Some((&wb, View::All)), &wc, View::All),
            ),
        ),
        (
            "snapshot_empty".into(),
            snapshot(
                wd.tick,
                Some(wc.tick),
                u32::MAX,
                diff(Some((&wc, View::All)), &wd, View::All),
            ),
        ),
        (
            "pong".into(),
            ServerMsg::Pong {
                client_time: 123_456,
                server_tick: Tick(1_004),
                server_time_ms: 1_767_225_600_000,
            },
        ),
        (
            "pong_max".into(),
            ServerMsg::Pong {
                client_time: u64::MAX,
                server_tick: Tick(u32::MAX),
                server_time_ms: u64::MAX - 1,
            },
        ),
        (
            "chat".into(),
            ServerMsg::Chat {
                from: PlayerId(2),
                name: "Zoë ✓".into(),
                text: "hello 🌍".into(),
            },
        ),
        (
            "event_joined".into(),
            ServerMsg::Event(GameEvent::Joined {
                player: PlayerId(3),
                name: "bot-12".into(),
            }),
        ),
        (
            "event_left".into(),
            ServerMsg::Event(GameEvent::Left {
                player: PlayerId(300),
                name: "ann".into(),
            }),
        ),
        (
            "event_knockout".into(),
            ServerMsg::Event(GameEvent::Knockout {
                by: PlayerId(1),
                victim: PlayerId(65_536),
            }),
        ),
    ];
    for code in ALL_BYE {
        v.push((
            format!("bye_{}", bye_name(code)),
            ServerMsg::Bye {
                code,
                reason: format!("because {}", bye_name(code)),
            },
        ));
    }
    v
}
