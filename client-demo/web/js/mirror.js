// The browser's mirror of its view of the world, ported from shared/src/mirror.rs:
// applies snapshot bodies (despawns, then spawns, then field updates), keeps the view
// checksum as a running sum of per-entity hashes, and verifies it against the server's
// after every snapshot. On any error the mirror is left exactly as it was.

import { entityHash } from './checksum.js';

/** Why a snapshot could not be applied; the client must reconnect for a full state. */
export class ApplyError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

export class Mirror {
  constructor() {
    /** Entities by id: plain {id, kind, owner, name, x, y, angle, score, hp}, never mutated. */
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

  /**
   * Applies the body of the snapshot for `tick` relative to `baseline` (null = full view).
   * Returns what changed: {full, prevTick, spawned, updated: [{old, now, u}], despawned}.
   * Throws ApplyError (and changes nothing) on a wrong baseline, an unknown or duplicate
   * id, or a checksum mismatch.
   */
  apply(tick, baseline, body) {
    const full = baseline === null;
    if (!full && this.tick !== baseline) {
      throw new ApplyError('WrongBaseline', `snapshot baseline ${baseline} does not match the mirrored tick ${this.tick}`);
    }
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
      if (!full) undo.push([id, this.entities.get(id), this.hashes.get(id)]);
      const old = this.hashes.get(id);
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
        const seen = new Set();
        for (const id of body.despawns) {
          if (seen.has(id)) throw new ApplyError('Duplicate', `snapshot lists entity ${id} more than once`);
          seen.add(id);
          if (!this.entities.has(id)) throw new ApplyError('UnknownEntity', `snapshot refers to unknown entity ${id}`);
        }
        for (const id of body.despawns) {
          despawned.push(this.entities.get(id));
          remove(id);
        }
      }
      if (body.spawns.length > 0) {
        const seen = new Set();
        for (const e of body.spawns) {
          if (seen.has(e.id)) throw new ApplyError('Duplicate', `snapshot lists entity ${e.id} more than once`);
          seen.add(e.id);
        }
        for (const e of body.spawns) {
          const old = this.entities.get(e.id);
          if (old !== undefined) despawned.push(old);
          put(e);
          spawned.push(e);
        }
      }
      for (const u of body.updates) {
        const old = this.entities.get(u.id);
        if (old === undefined) throw new ApplyError('UnknownEntity', `snapshot refers to unknown entity ${u.id}`);
        const now = {
          ...old,
          x: u.x === null ? old.x : (old.x + u.x) | 0,
          y: u.y === null ? old.y : (old.y + u.y) | 0,
          angle: u.angle === null ? old.angle : (old.angle + u.angle) & 0xff,
          score: u.score === null ? old.score : (old.score + u.score) | 0,
          hp: u.hp === null ? old.hp : (old.hp + u.hp) & 0xff,
        };
        put(now);
        updated.push({ old, now, u });
      }
      if (this.sum !== body.checksum) {
        throw new ApplyError(
          'ChecksumMismatch',
          `checksum mismatch after tick ${tick}: server 0x${body.checksum.toString(16)}, mirror 0x${this.sum.toString(16)}`,
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
