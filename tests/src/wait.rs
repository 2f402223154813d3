//! Waiting helpers: read a client's events until something holds, always within a
//! bounded time, panicking with what was awaited when it does not come.

use std::future::Future;
use std::time::Duration;

use tickwire_client::{Client, ClientEvent, SnapshotEvent};
use tickwire_shared::Tick;
use tokio::time::Instant;

/// The default bound for a single expected event.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs `fut`, panicking if it takes longer than `limit`.
pub async fn within<F: Future>(limit: Duration, what: &str, fut: F) -> F::Output {
    match tokio::time::timeout(limit, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {limit:?} waiting for {what}"),
    }
}

/// The next event of `client`, panicking on an error or after `EVENT_TIMEOUT`.
pub async fn next_event(client: &mut Client) -> ClientEvent {
    within(EVENT_TIMEOUT, "the next event", client.next_event())
        .await
        .unwrap_or_else(|e| panic!("reading the next event failed: {e}"))
}

/// The next snapshot of `client`, skipping other events.
pub async fn next_snapshot(client: &mut Client) -> SnapshotEvent {
    match wait_for(client, EVENT_TIMEOUT, "a snapshot", |_, e| {
        matches!(e, ClientEvent::Snapshot(_))
    })
    .await
    {
        ClientEvent::Snapshot(s) => s,
        other => panic!("expected a snapshot, got {other:?}"),
    }
}

/// Checks `holds` every 50 ms until it is true. Panics when `limit` passes first.
pub async fn eventually<F, Fut>(limit: Duration, what: &str, mut holds: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !holds().await {
        if Instant::now() >= deadline {
            panic!("timed out after {limit:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Reads events until `done(client, event)` holds and returns that event. Panics on an
/// error, on the connection closing (unless `done` accepts the `Closed` event), or when
/// `limit` passes first.
pub async fn wait_for<F>(
    client: &mut Client,
    limit: Duration,
    what: &str,
    mut done: F,
) -> ClientEvent
where
    F: FnMut(&Client, &ClientEvent) -> bool,
{
    let deadline = Instant::now() + limit;
    loop {
        let event = match tokio::time::timeout_at(deadline, client.next_event()).await {
            Err(_) => panic!("timed out after {limit:?} waiting for {what}"),
            Ok(Err(e)) => panic!("waiting for {what}: {e}"),
            Ok(Ok(event)) => event,
        };
        if done(client, &event) {
            return event;
        }
        if let ClientEvent::Closed(info) = &event {
            panic!("waiting for {what}: the connection closed ({info:?})");
        }
    }
}

/// An event and when it was read.
#[derive(Clone, Debug)]
pub struct Timed {
    /// When `next_event` returned it.
    pub at: Instant,
    /// The event.
    pub event: ClientEvent,
}

/// Reads every event for `period` and returns them with their arrival times. Panics on
/// an error or a close.
pub async fn keep_reading(client: &mut Client, period: Duration) -> Vec<Timed> {
    let deadline = Instant::now() + period;
    let mut out = Vec::new();
    while let Ok(r) = tokio::time::timeout_at(deadline, client.next_event()).await {
        let event = r.unwrap_or_else(|e| panic!("reading events failed: {e}"));
        if let ClientEvent::Closed(info) = &event {
            panic!("the connection closed while reading ({info:?})");
        }
        out.push(Timed {
            at: Instant::now(),
            event,
        });
    }
    out
}

/// The snapshots among `events`, in order.
#[must_use]
pub fn snapshots_of(events: &[Timed]) -> Vec<SnapshotEvent> {
    events
        .iter()
        .filter_map(|t| match &t.event {
            ClientEvent::Snapshot(s) => Some(*s),
            _ => None,
        })
        .collect()
}

/// Reads snapshots until one reaches `tick` (or later) and returns every snapshot read
/// on the way, that one included.
pub async fn read_until_caught_up(
    client: &mut Client,
    tick: Tick,
    limit: Duration,
) -> Vec<SnapshotEvent> {
    let mut seen = Vec::new();
    wait_for(client, limit, "the client to catch up", |_, e| match e {
        ClientEvent::Snapshot(s) => {
            seen.push(*s);
            s.tick == tick || s.tick.is_after(tick)
        }
        _ => false,
    })
    .await;
    seen
}
