// The browser's mirror of its view of the world, ported from shared/src/mirror.rs: reads
// snapshot bodies by the game's schema and applies them (despawns, then spawns, then
// field updates, an angle's deltas wrapping in its bits), keeps the view checksum as a
// running sum of per-entity hashes, and verifies it against the server's after every
// snapshot. On any error the mirror is left exactly as it was.

import { entityHash } from './checksum.js';
import { forEachBit, highestBit } from './schema.js';

/** Why a snapshot could not be applied; the client must reconnect for a full state. */
export class ApplyError extends Error {
  /** @param {'WrongBaseline'|'UnknownEntity'|'Shape'|'Duplicate'|'ChecksumMismatch'} kind */
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

const unknown = (id) => new ApplyError('UnknownEntity', `snapshot refers to unknown entity ${id}`);
const duplicate = (id) => new ApplyError('Duplicate', `snapshot lists entity ${id} more than once`);
const shape = (id, why) => new ApplyError('Shape', `entity ${id} does not fit the schema: ${why}`);

/** Applies one update's deltas to a copy of `old`'s numeric values. */
function applyUpdate(schema, old, mask, deltas) {
  const n = old.nums.length;
  if (highestBit(mask) >= n) throw shape(old.id, 'update names a field the entity lacks');
  const wraps = schema.layout(old.components).wraps;
  const nums = old.nums.slice();
  let k = 0;
  const one = (i) => {
    if (k >= deltas.length) throw shape(old.id, 'too few deltas');
    const d = deltas[k++];
    const w = wraps[i];
    nums[i] = w === 0 || w >= 32 ? (nums[i] + d) | 0 : (nums[i] + d) & ((1 << w) - 1);
  };
  forEachBit(mask, one);
  return { id: old.id, components: old.components, nums, strs: old.strs };
}

export class Mirror {
  /** @param {import('./schema.js').Schema} schema the game's schema, from Welcome */
  constructor(schema) {
    this.schema = schema;
    /** Entities by id: {id, components, nums, strs}, never mutated (replaced instead). */
    this.entities = new Map();
    /** Each entity's hash, so the checksum is updated per change, not recomputed. */
    this.hashes = new Map();
    /** The wrapping u32 sum of `hashes`. */
    this.sum = 0;
    /** The tick of the last applied snapshot; null before the first. */
    this.tick = null;
  }

  get(id) {
    return this.entities.get(id);
  }

  get size() {
    return this.entities.size;
  }

  checksum() {
    return this.sum;
  }

  /** The entities sorted by id (as the Rust mirror keeps them). */
  sorted() {
    return [...this.entities.values()].sort((a, b) => a.id - b.id);
  }

  /**
   * Applies the body of the snapshot for `tick` relative to `baseline` (null = full view).
   * Returns what changed: {full, prevTick, spawned, updated: [{old, now, mask}],
   * despawned} (a spawn that replaces an entity lists the old one as despawned). Throws
   * ApplyError (and changes nothing) on a wrong baseline, an unknown or duplicate id, a
   * shape that does not fit the schema, or a checksum mismatch.
   */
  apply(tick, baseline, body) {
    const full = baseline === null;
    if (!full && this.tick !== baseline) {
      throw new ApplyError('WrongBaseline', `snapshot baseline ${baseline} does not match the mirrored tick ${this.tick}`);
    }
    const schema = this.schema;
    const saved = { entities: this.entities, hashes: this.hashes, sum: this.sum };
    // Undo log for a delta: [id, previous entity or undefined, previous hash].
    const undo = [];
    if (full) {
      this.entities = new Map();
      this.hashes = new Map();
      this.sum = 0;
    }
    const put = (e) => {
      const id = e.id;
      const old = this.hashes.get(id);
      if (!full) undo.push([id, this.entities.get(id), old]);
      if (old !== undefined) this.sum = (this.sum - old) >>> 0;
      const h = entityHash(e);
      this.entities.set(id, e);
      this.hashes.set(id, h);
      this.sum = (this.sum + h) >>> 0;
    };
    const remove = (id) => {
      undo.push([id, this.entities.get(id), this.hashes.get(id)]);
      this.sum = (this.sum - this.hashes.get(id)) >>> 0;
      this.entities.delete(id);
      this.hashes.delete(id);
    };
    const rollback = () => {
      if (full) {
        Object.assign(this, saved);
        return;
      }
      for (let i = undo.length - 1; i >= 0; i--) {
        const [id, e, h] = undo[i];
        if (e === undefined) {
          this.entities.delete(id);
          this.hashes.delete(id);
        } else {
          this.entities.set(id, e);
          this.hashes.set(id, h);
        }
      }
      this.sum = saved.sum;
    };

    const despawned = [];
    const spawned = [];
    const updated = [];
    try {
      if (body.despawns.length > 0) {
        const gone = body.despawns.slice().sort((a, b) => a - b);
        for (let i = 1; i < gone.length; i++) if (gone[i] === gone[i - 1]) throw duplicate(gone[i]);
        for (const id of gone) if (!this.entities.has(id)) throw unknown(id);
        for (const id of gone) {
          despawned.push(this.entities.get(id));
          remove(id);
        }
      }
      if (body.spawns.length > 0) {
        const spawns = body.spawns.slice().sort((a, b) => a.id - b.id);
        for (let i = 1; i < spawns.length; i++) if (spawns[i].id === spawns[i - 1].id) throw duplicate(spawns[i].id);
        for (const e of spawns) {
          const l = schema.layout(e.components);
          if (!l.valid) throw shape(e.id, 'unknown component');
          if (l.nums !== e.nums.length || l.strs !== e.strs.length) throw shape(e.id, 'wrong number of values');
        }
        for (const e of spawns) {
          const old = this.entities.get(e.id);
          if (old !== undefined) despawned.push(old);
          put(e);
          spawned.push(e);
        }
      }
      for (const u of body.updates) {
        const old = this.entities.get(u.id);
        if (old === undefined) throw unknown(u.id);
        const now = applyUpdate(schema, old, u.mask, u.deltas);
        put(now);
        updated.push({ old, now, mask: u.mask });
      }
      if (this.sum !== body.checksum) {
        throw new ApplyError(
          'ChecksumMismatch',
          `checksum mismatch after tick ${tick}: server 0x${(body.checksum >>> 0).toString(16)}, mirror 0x${this.sum.toString(16)}`,
        );
      }
    } catch (err) {
      rollback();
      throw err;
    }
    if (full) {
      for (const [id, e] of saved.entities) if (!this.entities.has(id)) despawned.push(e);
    }
    const prevTick = this.tick;
    this.tick = tick;
    return { full, prevTick, spawned, updated, despawned };
  }
}
