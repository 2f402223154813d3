//! The outgoing queue: encoded messages waiting for the socket to accept them.
//!
//! Acks are cumulative ("the newest tick applied"), so an ack queued behind another ack
//! replaces it: a client that cannot write fast enough sends fewer acks, never a growing
//! pile of them. Everything else keeps its order, up to a fixed bound.

use std::collections::VecDeque;

use tickwire_shared::codec::encode_client;
use tickwire_shared::{ClientMsg, Tick};

/// Most messages that may wait; past this the server has stopped reading for a long time.
pub(crate) const OUTBOX_LIMIT: usize = 256;

/// A queued message.
#[derive(Debug, PartialEq, Eq)]
enum Queued {
    /// An ack, encoded only when it leaves, so a newer one can replace it.
    Ack(Tick),
    /// Any other message, already encoded.
    Bytes(Vec<u8>),
}

/// Messages not yet handed to the WebSocket sink, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    /// The queue.
    queue: VecDeque<Queued>,
}

/// The queue is at `OUTBOX_LIMIT`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Full;

impl Outbox {
    /// Queues a message (not an ack; use `push_ack`).
    pub(crate) fn push(&mut self, msg: &ClientMsg) -> Result<(), Full> {
        if self.queue.len() >= OUTBOX_LIMIT {
            return Err(Full);
        }
        self.queue.push_back(Queued::Bytes(encode_client(msg)));
        Ok(())
    }

    /// Queues an ack for `tick`, replacing an ack still waiting at the back.
    pub(crate) fn push_ack(&mut self, tick: Tick) {
        if let Some(Queued::Ack(t)) = self.queue.back_mut() {
            *t = tick;
        } else {
            // Acks never fail: a full queue drops its newest ack to make room, which at
            // worst holds back the server's sending, never breaks the session.
            if self.queue.len() >= OUTBOX_LIMIT {
                self.queue.pop_back();
            }
            self.queue.push_back(Queued::Ack(tick));
        }
    }

    /// True when nothing waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// How many messages wait.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    /// Takes the oldest message, encoded.
    pub(crate) fn pop(&mut self) -> Option<Vec<u8>> {
        self.queue.pop_front().map(|q| match q {
            Queued::Ack(tick) => encode_client(&ClientMsg::Ack { tick }),
            Queued::Bytes(b) => b,
        })
    }

    /// Drops everything (the connection is gone).
    pub(crate) fn clear(&mut self) {
        self.queue.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickwire_shared::codec::decode_client;

    fn drain(o: &mut Outbox) -> Vec<ClientMsg> {
        std::iter::from_fn(|| o.pop())
            .map(|b| decode_client(&b).unwrap())
            .collect()
    }

    #[test]
    fn consecutive_acks_coalesce_and_order_is_kept() {
        let mut o = Outbox::default();
        o.push_ack(Tick(1));
        o.push_ack(Tick(2));
        o.push(&ClientMsg::Ping { client_time: 9 }).unwrap();
        o.push_ack(Tick(3));
        o.push_ack(Tick(4));
        assert_eq!(o.len(), 3);
        assert_eq!(
            drain(&mut o),
            vec![
                ClientMsg::Ack { tick: Tick(2) },
                ClientMsg::Ping { client_time: 9 },
                ClientMsg::Ack { tick: Tick(4) },
            ]
        );
        assert!(o.is_empty());
    }

    #[test]
    fn the_queue_is_bounded() {
        let mut o = Outbox::default();
        for i in 0..OUTBOX_LIMIT {
            o.push(&ClientMsg::Ping {
                client_time: i as u64,
            })
            .unwrap();
        }
        assert_eq!(o.push(&ClientMsg::Ping { client_time: 0 }), Err(Full));
        o.push_ack(Tick(5));
        assert_eq!(o.len(), OUTBOX_LIMIT);
        o.clear();
        assert!(o.is_empty());
    }
}
