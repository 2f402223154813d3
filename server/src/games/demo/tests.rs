//! The demo's rules, run headless.

use super::*;
use crate::games::controls::{DOWN, FIRE, LEFT, RIGHT, UP};
use crate::shared::component::read_component;
use crate::shared::{NetId, WorldSnapshot};
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
