// The browser's codec for protocol version 6: decodes and encodes exactly the bytes of
// the Rust codec's messages (shared/src/codec.rs; the primitives are bincode.js, the
// Snapshot body snapshot-body.js, the Welcome schema schema-wire.js). Checked against
// the golden vectors written by shared/tests/golden.rs, so the two cannot drift apart.
//
// Shapes: messages are plain objects with a `type` field and the Rust field names. u64
// fields (client_time, server_time_ms) are BigInt. Entities are the schema-driven
// {id, components, nums, strs}; updates are {id, mask, deltas}; component sets and field
// masks are Numbers below 2^32 and BigInts from 2^32 up (so the common case stays fast).
// Welcome's schema is a checked `Schema` (schema.js) whose JSON form is the SchemaDef's;
// Input and Event data are Uint8Arrays (layout.js reads and writes them by the schema).
// Decoding never trusts a length beyond the bytes present, rejects trailing bytes, and
// throws nothing but CodecError (bincode.js).

import { Reader, Writer } from './bincode.js';
import { readSchema, writeSchema } from './schema-wire.js';
import { readBody, writeBody } from './snapshot-body.js';

/** Variant names in wire order (the variant index is the position). */
export const CLIENT_TYPES = ['Hello', 'Input', 'Ack', 'Ping', 'Chat'];
export const SERVER_TYPES = ['Welcome', 'Snapshot', 'Pong', 'Chat', 'Event', 'Bye', 'Joined', 'Left'];
export const BYE_CODES = [
  'ServerShutdown', 'ProtocolMismatch', 'Malformed', 'ServerFull', 'AuthFailed', 'Timeout',
  'RateLimited', 'TooLarge', 'Replaced', 'InternalError', 'OriginRefused', 'NoSuchRoom',
  'RoomFull', 'WrongCode', 'NoSeat', 'Relocate',
];

/** Decodes one server message. Throws CodecError on anything malformed. */
export function decodeServer(bytes) {
  const r = new Reader(bytes);
  const type = r.variant(SERVER_TYPES, 'ServerMsg');
  let msg;
  switch (type) {
    case 'Welcome':
      msg = {
        type,
        room: r.u32(),
        player: r.u32(),
        entity: r.u32(),
        spectator: r.bool(),
        tick_hz: r.u16(),
        tick: r.u32(),
        resume_token: r.string(),
        schema: readSchema(r),
      };
      break;
    case 'Snapshot': {
      const header = { tick: r.u32(), baseline: r.option(() => r.u32()), input_ack: r.u32() };
      msg = { type, header, body: readBody(r) };
      break;
    }
    case 'Pong':
      msg = { type, client_time: r.u64(), server_tick: r.u32(), server_time_ms: r.u64() };
      break;
    case 'Chat':
      msg = { type, from: r.u32(), name: r.string(), text: r.string() };
      break;
    case 'Event':
      msg = { type, data: r.bytes() };
      break;
    case 'Bye':
      msg = { type, code: r.variant(BYE_CODES, 'ByeCode'), reason: r.string() };
      break;
    default: // Joined, Left
      msg = { type, player: r.u32(), name: r.string() };
  }
  r.end();
  return msg;
}

/** Encodes one server message (for tests and tools; the page only decodes them). */
export function encodeServer(msg) {
  const w = new Writer(64);
  w.variant(SERVER_TYPES, msg.type);
  switch (msg.type) {
    case 'Welcome':
      w.varint(msg.room);
      w.varint(msg.player);
      w.varint(msg.entity);
      w.bool(msg.spectator);
      w.varint(msg.tick_hz);
      w.varint(msg.tick);
      w.string(msg.resume_token);
      writeSchema(w, msg.schema);
      break;
    case 'Snapshot':
      w.varint(msg.header.tick);
      w.option(msg.header.baseline, (b) => w.varint(b));
      w.varint(msg.header.input_ack);
      writeBody(w, msg.body);
      break;
    case 'Pong':
      w.varint(BigInt(msg.client_time));
      w.varint(msg.server_tick);
      w.varint(BigInt(msg.server_time_ms));
      break;
    case 'Chat':
      w.varint(msg.from);
      w.string(msg.name);
      w.string(msg.text);
      break;
    case 'Event':
      w.bytes(msg.data);
      break;
    case 'Bye':
      w.variant(BYE_CODES, msg.code);
      w.string(msg.reason);
      break;
    default:
      w.varint(msg.player);
      w.string(msg.name);
  }
  return w.finish();
}

/** Decodes one client message (what the server reads; used by the tests). */
export function decodeClient(bytes) {
  const r = new Reader(bytes);
  const type = r.variant(CLIENT_TYPES, 'ClientMsg');
  let msg;
  switch (type) {
    case 'Hello':
      msg = {
        type,
        protocol: r.u16(),
        name: r.string(),
        resume: r.option(() => ({ token: r.string(), tick: r.option(() => r.u32()) })),
        auth: r.option(() => r.string()),
      };
      break;
    case 'Input':
      msg = { type, seq: r.u32(), data: r.bytes(), ack: r.option(() => r.u32()), view: r.option(() => r.u32()) };
      break;
    case 'Ack':
      msg = { type, tick: r.u32() };
      break;
    case 'Ping':
      msg = { type, client_time: r.u64() };
      break;
    default:
      msg = { type, text: r.string() };
  }
  r.end();
  return msg;
}

/** Encodes one client message into the bytes of one WebSocket binary message. */
export function encodeClient(msg) {
  const w = new Writer();
  w.variant(CLIENT_TYPES, msg.type);
  switch (msg.type) {
    case 'Hello':
      w.varint(msg.protocol);
      w.string(msg.name);
      // resume is {token, tick|null}; a bare token string means "holding nothing".
      w.option(msg.resume, (v) => {
        const res = typeof v === 'string' ? { token: v, tick: null } : v;
        w.string(res.token);
        w.option(res.tick, (t) => w.varint(t >>> 0));
      });
      w.option(msg.auth, (s) => w.string(s));
      break;
    case 'Input':
      w.varint(msg.seq >>> 0);
      w.bytes(msg.data);
      w.option(msg.ack ?? null, (t) => w.varint(t >>> 0));
      w.option(msg.view ?? null, (t) => w.varint(t >>> 0));
      break;
    case 'Ack':
      w.varint(msg.tick >>> 0);
      break;
    case 'Ping':
      w.varint(typeof msg.client_time === 'bigint' ? msg.client_time : BigInt(Math.max(0, Math.floor(msg.client_time))));
      break;
    case 'Chat':
      w.string(msg.text);
      break;
    default:
      throw new RangeError(`unknown client message ${msg.type}`);
  }
  return w.finish();
}
