//! The demo's rules, run headless.

use super::*;
use crate::games::controls::{DOWN, FIRE, LEFT, RIGHT, UP};
use crate::shared::component::read_component;
use crate::shared::{NetId, Tick, WorldSnapshot};
use crate::sim::Sim;

fn demo() -> Sim<Demo> {
    Sim::<Demo>::new(&DemoConfig::default(), 30).unwrap()
}

fn keys(buttons: u8, aim: u16) -> Controls {
    Controls {
        buttons,
        aim,
        ..Controls::default()
    }
}

fn shots(snap: &WorldSnapshot, sim: &Sim<Demo>) -> usize {
    snap.entities
        .iter()
        .filter(|e| read_component::<Shot>(sim.schema(), e).is_some())
        .count()
}

fn body(sim: &Sim<Demo>, snap: &WorldSnapshot, id: NetId) -> Option<Body> {
    read_component(sim.schema(), snap.get(id)?)
}

#[test]
fn join_move_and_leave_round_trip_through_snapshots() {
    let mut g = demo();
    let me = g.join_new("ann");
    let snap = g.step();
    let card: Player = read_component(g.schema(), snap.get(me).unwrap()).unwrap();
    assert_eq!((&*card.name, card.hp), ("ann", 3));
    let before = body(&g, &snap, me).unwrap();
    g.input(PlayerId(1), keys(RIGHT, 0));
    let snap = (0..5).map(|_| g.step()).last().unwrap();
    let after = body(&g, &snap, me).unwrap();
    assert!(after.x > before.x || after.x >= 1999.9);
    assert!(g.leave(PlayerId(1)).is_some());
    assert!(g.step().get(me).is_none());
    assert!(g.leave(PlayerId(1)).is_none());
}

#[test]
fn a_tapped_fire_between_ticks_still_fires() {
    let mut g = demo();
    g.join_new("ann");
    let before = shots(&g.capture(), &g);
    let mut tap = keys(FIRE, 0);
    tap.merge(keys(0, 0));
    g.input(PlayerId(1), tap);
    let after = shots(&g.step(), &g);
    assert_eq!(after, before + 1);
}

#[test]
fn the_same_seed_and_inputs_give_the_same_world() {
    let run = || {
        let mut g = demo();
        g.join_new("a");
        for t in 0..200u32 {
            g.input(PlayerId(1), keys((t % 16) as u8 | FIRE, (t * 300) as u16));
            g.step();
        }
        g.capture()
    };
    assert_eq!(run(), run());
}

#[test]
fn shots_score_and_knockouts_are_events() {
    // Two players face to face at close range; one keeps firing at the other.
    let mut g = demo();
    g.join_new("shooter");
    g.join_new("target");
    let mut knockouts = 0;
    for _ in 0..600 {
        let snap = g.capture();
        let pos = |p: u32| {
            snap.entities
                .iter()
                .find(|e| {
                    read_component::<Player>(g.schema(), e).is_some_and(|c| c.owner == PlayerId(p))
                })
                .and_then(|e| read_component::<Body>(g.schema(), e))
        };
        let (Some(a), Some(b)) = (pos(1), pos(2)) else {
            break;
        };
        let aim = (b.y - a.y).atan2(b.x - a.x);
        let steps = (aim / std::f32::consts::TAU * 65_536.0).rem_euclid(65_536.0) as u16;
        // Close in (shots fly 770 units), firing all the while.
        let mut held = FIRE;
        if (b.x - a.x).hypot(b.y - a.y) > 200.0 {
            held |= if b.x > a.x + 50.0 {
                RIGHT
            } else if b.x < a.x - 50.0 {
                LEFT
            } else {
                0
            };
            held |= if b.y > a.y + 50.0 {
                DOWN
            } else if b.y < a.y - 50.0 {
                UP
            } else {
                0
            };
        }
        g.input(PlayerId(1), keys(held, steps));
        g.step();
        knockouts += g
            .drain_events()
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    DemoEvent::Knockout {
                        by: PlayerId(1),
                        victim: PlayerId(2)
                    }
                )
            })
            .count();
    }
    assert!(
        knockouts >= 1,
        "a player under fire for 20 s is knocked out"
    );
    let score = g
        .capture()
        .entities
        .iter()
        .filter_map(|e| read_component::<Player>(g.schema(), e))
        .find(|c| c.owner == PlayerId(1))
        .map(|c| c.score);
    assert!(score >= Some(5), "a knockout scores ({score:?})");
}

/// One aimed shot under simulated latency: the shooter stands still, the target runs
/// across the line of fire, and the shooter's client, `aim_lag` ticks behind the server
/// (its round trip plus its interpolation delay), leads the target by the velocity it
/// sees and fires, saying `claimed` as its view tick. Returns whether the target was hit
/// and the lag the shot flew with.
fn aimed_shot(aim_lag: u32, claimed: impl Fn(Tick) -> Option<Tick>) -> (bool, u32) {
    // A seed whose two spawn points are a fair shot apart.
    let (mut g, shooter, target) = (1..200)
        .find_map(|seed| {
            let mut g = Sim::<Demo>::new(
                &DemoConfig {
                    npcs: 0,
                    seed,
                    ..DemoConfig::default()
                },
                30,
            )
            .unwrap();
            let shooter = g.join_new("shooter");
            let target = g.join_new("target");
            let snap = g.capture();
            let (a, b) = (body(&g, &snap, shooter)?, body(&g, &snap, target)?);
            let d = (b.x - a.x).hypot(b.y - a.y);
            (200.0..450.0).contains(&d).then_some((g, shooter, target))
        })
        .expect("some seed spawns the two a fair shot apart");
    let hp = |g: &Sim<Demo>, snap: &WorldSnapshot| {
        read_component::<Player>(g.schema(), snap.get(target).unwrap())
            .unwrap()
            .hp
    };
    // The target runs across the line of fire, the way with more room.
    let start = g.capture();
    let (a, b) = (
        body(&g, &start, shooter).unwrap(),
        body(&g, &start, target).unwrap(),
    );
    let run = if (b.x - a.x).abs() > (b.y - a.y).abs() {
        if b.y < 600.0 { DOWN } else { UP }
    } else if b.x < 1000.0 {
        RIGHT
    } else {
        LEFT
    };
    let mut past = vec![std::sync::Arc::new(start)];
    for t in 0..50 {
        if t == 30 {
            g.input(PlayerId(2), keys(run, 0));
        }
        past.push(g.step());
    }
    // What the client shows: the world `aim_lag` ticks before the tick its shot lands in.
    let fire_tick = g.tick().next();
    let view = Tick(fire_tick.0 - aim_lag);
    let seen = |tick: Tick| body(&g, &past[tick.0 as usize], target).unwrap();
    let (now, before) = (seen(view), seen(Tick(view.0 - 1)));
    let (vx, vy) = (now.x - before.x, now.y - before.y);
    let me = body(&g, &past[view.0 as usize], shooter).unwrap();
    // The shot leaves 24 units out and flies 700/30 units a tick, moving on the tick it
    // is fired: pick the tick it would arrive and aim where the target will be then.
    let step = 700.0 / 30.0;
    let aim = (0..40)
        .map(|k| {
            let (x, y) = (now.x + vx * k as f32, now.y + vy * k as f32);
            let reach = 24.0 + step * (k + 1) as f32;
            (
                (x - me.x).hypot(y - me.y) - reach,
                (y - me.y).atan2(x - me.x),
            )
        })
        .min_by(|p, q| p.0.abs().total_cmp(&q.0.abs()))
        .unwrap()
        .1;
    let steps = (aim / std::f32::consts::TAU * 65_536.0).rem_euclid(65_536.0) as u16;
    g.input_seen(PlayerId(1), keys(FIRE, steps), claimed(view));
    let before_hp = hp(&g, past.last().unwrap());
    let snap = g.step();
    let lag = g
        .world()
        .query::<&super::super::components::Flight>()
        .iter()
        .map(|f| f.lag)
        .next()
        .expect("the shot is in flight");
    g.input_seen(PlayerId(1), keys(0, steps), claimed(view));
    let mut hit = hp(&g, &snap) < before_hp;
    for _ in 0..40 {
        let snap = g.step();
        hit |= hp(&g, &snap) < before_hp;
    }
    (hit, lag)
}

#[test]
fn at_150_ms_a_shot_aimed_where_the_client_saw_the_target_hits() {
    // 150 ms round trip plus one tick of interpolation: the client sees 5 ticks back.
    let (hit, lag) = aimed_shot(5, Some);
    assert_eq!(lag, 5);
    assert!(hit, "the compensated shot hits where the shooter aimed");
    // The same shot judged against the present misses: the target ran on 40 units.
    let (hit, lag) = aimed_shot(5, |_| None);
    assert_eq!(lag, 0);
    assert!(!hit, "without compensation the shot trails the target");
}

#[test]
fn a_view_older_than_the_cap_is_clamped_to_it() {
    // The cap is 250 ms: 7 ticks at 30 Hz. A client claiming 40 ticks gets 7, so a shot
    // aimed 40 ticks back misses, and one aimed at the cap hits.
    let (hit, lag) = aimed_shot(40, Some);
    assert_eq!(lag, 7);
    assert!(!hit);
    let (hit, lag) = aimed_shot(7, |view| Some(Tick(view.0 - 33)));
    assert_eq!(lag, 7);
    assert!(hit, "aimed at the cap's world, the clamped shot hits");
}
