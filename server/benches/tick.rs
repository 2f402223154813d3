//! Benchmarks of the tick's costs at 1k and 10k entities (the `arena` random walk, so
//! every field of every entity changes every tick): world step, snapshot capture, delta
//! encode and decode. Also prints the bandwidth each update costs.
//!
//! Run: `cargo bench -p tickwire-server --bench tick`

use std::hint::black_box;

use divan::Bencher;
use tickwire_server::Sim;
use tickwire_server::games::arena::Arena;
use tickwire_server::games::field::FieldConfig;
use tickwire_shared::codec::{decode_body, encode_body};
use tickwire_shared::{Mirror, View, diff};

const SIZES: [u32; 2] = [1_000, 10_000];

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

/// Prints bytes per update for moving and resting entities.
fn bandwidth_report() {
    for npcs in SIZES {
        let mut sim = arena(npcs);
        let s = sim.schema().clone();
        let mut total = 0usize;
        let ticks = 30;
        let mut prev = sim.capture();
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
    divan::main();
}
