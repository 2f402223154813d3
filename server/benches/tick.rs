//! Benchmarks of the tick's costs at 1k and 10k entities (the `arena` random walk, so
//! every field of every entity changes every tick): world step, snapshot capture, delta
//! encode and decode. Also prints the bandwidth each update costs.
//!
//! And the cost of one client's radius view at 1k, 10k and 50k entities in a world that
//! grows with them (the `crowd` density: 1000 entities per 4000 × 4000, radius 600, so
//! about 70 in view): by the tick's grid, which should stay flat, against testing every
//! entity, which grows with the world; and the grid's build, once per tick.
//!
//! Run: `cargo bench -p tickwire-server --bench tick`

use std::hint::black_box;
use std::sync::Arc;

use divan::Bencher;
use tickwire_server::Sim;
use tickwire_server::games::arena::Arena;
use tickwire_server::games::field::FieldConfig;
use tickwire_shared::codec::{decode_body, encode_body};
use tickwire_shared::interest::{Grid, pick, scan};
use tickwire_shared::{Mirror, Relevance, Shape, View, WorldSnapshot, diff, diff_entities};

const SIZES: [u32; 2] = [1_000, 10_000];

/// World entity counts of the view benchmarks.
const WORLDS: [u32; 3] = [1_000, 10_000, 50_000];

/// The crowd scenario's view radius, in units.
const VIEW_RADIUS: f32 = 600.0;

fn arena(npcs: u32) -> Sim<Arena> {
    let config = FieldConfig {
        npcs: Some(npcs),
        ..FieldConfig::default()
    };
    let mut sim = Sim::<Arena>::new(&config, 30).expect("the arena's schema is valid");
    sim.step();
    sim
}

#[divan::bench(args = SIZES)]
fn step(bencher: Bencher, npcs: u32) {
    let mut sim = arena(npcs);
    bencher.bench_local(|| sim.step());
}

#[divan::bench(args = SIZES)]
fn capture(bencher: Bencher, npcs: u32) {
    let sim = arena(npcs);
    bencher.bench_local(|| black_box(sim.capture()));
}

#[divan::bench(args = SIZES)]
fn delta_encode(bencher: Bencher, npcs: u32) {
    let mut sim = arena(npcs);
    let a = sim.capture();
    let b = sim.step();
    let s = sim.schema().clone();
    bencher.bench_local(|| black_box(encode_body(&diff(&s, Some((&a, View::All)), &b, View::All))));
}

#[divan::bench(args = SIZES)]
fn delta_decode_apply(bencher: Bencher, npcs: u32) {
    let mut sim = arena(npcs);
    let a = sim.capture();
    let b = sim.step();
    let s = sim.schema().clone();
    let bytes = encode_body(&diff(&s, Some((&a, View::All)), &b, View::All));
    let mirror = Mirror::from_entities(s.clone(), a.tick, a.entities.clone());
    bencher.bench_local(|| {
        let body = decode_body(&bytes).expect("valid body");
        let mut m = mirror.clone();
        m.apply(b.tick, Some(a.tick), &body).expect("applies");
        black_box(m)
    });
}

/// A random walk of `npcs` at the crowd's density, stepped once: (sim, previous, newest).
fn crowd(npcs: u32) -> (Sim<Arena>, Arc<WorldSnapshot>, Arc<WorldSnapshot>) {
    // 1000 per 4000 × 4000: the side grows with the square root of the count.
    let side = (4000.0 * (f64::from(npcs) / 1000.0).sqrt()) as u32;
    let config = FieldConfig {
        npcs: Some(npcs),
        width: side,
        height: side,
        ..FieldConfig::default()
    };
    let mut sim = Sim::<Arena>::new(&config, 30).expect("the arena's schema is valid");
    let prev = sim.step();
    let next = sim.step();
    (sim, prev, next)
}

/// A radius view centred on the mean position of the world's entities.
fn central_view(sim: &Sim<Arena>, snap: &WorldSnapshot) -> View {
    let schema = sim.schema();
    let (mut sx, mut sy, mut n) = (0i64, 0i64, 0i64);
    for (x, y) in snap
        .entities
        .iter()
        .filter_map(|e| schema.position_of(e.components, &e.nums))
    {
        sx += i64::from(x);
        sy += i64::from(y);
        n += 1;
    }
    let n = n.max(1);
    View::Area {
        cx: (sx / n) as i32,
        cy: (sy / n) as i32,
        shape: Shape::Circle {
            radius: schema.position_steps(VIEW_RADIUS),
        },
        always: None,
        relevant: Relevance::default(),
        team: None,
    }
}

/// Prints how many entities the view benchmarks' client sees in each world.
fn view_report() {
    for npcs in WORLDS {
        let (sim, _, next) = crowd(npcs);
        let view = central_view(&sim, &next);
        let seen = view.visible(sim.schema(), &next.entities).count();
        println!("view benchmarks, {npcs} entities: {seen} in the client's view");
    }
}

/// One client's delta, found through the tick's grid.
#[divan::bench(args = WORLDS)]
fn view_delta_by_grid(bencher: Bencher, npcs: u32) {
    let (sim, prev, next) = crowd(npcs);
    let s = sim.schema().clone();
    let view = central_view(&sim, &prev);
    let grid = Grid::build(&s, &next, view_reach(&view), Relevance::default());
    let mut held = Vec::new();
    scan(&s, &prev, view, &mut held);
    let mut now = Vec::new();
    bencher.bench_local(|| {
        grid.visible(&s, &next, view, &mut now);
        black_box(encode_body(&diff_entities(
            &s,
            pick(&prev, &held),
            pick(&next, &now),
        )))
    });
}

/// One client's delta, found by testing every entity of both snapshots.
#[divan::bench(args = WORLDS)]
fn view_delta_by_scan(bencher: Bencher, npcs: u32) {
    let (sim, prev, next) = crowd(npcs);
    let s = sim.schema().clone();
    let view = central_view(&sim, &prev);
    bencher.bench_local(|| black_box(encode_body(&diff(&s, Some((&prev, view)), &next, view))));
}

/// The grid's build, once per tick for every client.
#[divan::bench(args = WORLDS)]
fn grid_build(bencher: Bencher, npcs: u32) {
    let (sim, _, next) = crowd(npcs);
    let s = sim.schema().clone();
    let cell = s.position_steps(VIEW_RADIUS);
    bencher.bench_local(|| black_box(Grid::build(&s, &next, cell, Relevance::default())));
}

fn view_reach(view: &View) -> i32 {
    match *view {
        View::Area { shape, .. } => shape.reach().0,
        View::All => 0,
    }
}

/// Prints bytes per update for moving and resting entities.
fn bandwidth_report() {
    for npcs in SIZES {
        let mut sim = arena(npcs);
        let s = sim.schema().clone();
        let mut total = 0usize;
        let ticks = 30;
        let mut prev = Arc::new(sim.capture());
        for _ in 0..ticks {
            let next = sim.step();
            let body = diff(&s, Some((&prev, View::All)), &next, View::All);
            total += encode_body(&body).len();
            prev = next;
        }
        let per_entity = total as f64 / f64::from(ticks) / f64::from(npcs);
        let rest = encode_body(&diff(&s, Some((&prev, View::All)), &prev, View::All)).len();
        println!(
            "bandwidth, {npcs} moving entities: {per_entity:.2} bytes per entity per update \
             ({:.1} KiB per update); an unchanged world: {rest} bytes in all",
            total as f64 / f64::from(ticks) / 1024.0
        );
    }
}

fn main() {
    bandwidth_report();
    view_report();
    divan::main();
}
