// The flat entities the page draws: the mirror's schema-driven entities passed through
// the game's adapter (demo.js for the built-in games, generic.js for any other), kept in
// step with the mirror snapshot by snapshot. `apply` turns the mirror's change into the
// same change over flat entities, which the interpolation and effects consume. Both
// adapters read an entity by a plan per component set (`planCache`).

/**
 * An adapter's plans by component set: `build(mask)` runs once per set (the cache
 * starts over past 256 sets) and says where each flat field's value sits in an
 * entity with that set, -1 when absent (read as 0 by `valueAt`).
 */
export function planCache(build) {
  const plans = new Map();
  return (mask) => {
    let p = plans.get(mask);
    if (p !== undefined) return p;
    p = build(mask);
    if (plans.size > 256) plans.clear();
    plans.set(mask, p);
    return p;
  };
}

/** The numeric value at a plan's index `i`, or 0 when the plan has none (-1). */
export function valueAt(nums, i) {
  return i < 0 ? 0 : nums[i];
}

export class FlatView {
  /** @param {{flat: (e: object) => object|null}} adapter */
  constructor(adapter) {
    this.adapter = adapter;
    /** Flat entities by id (only those the adapter could place). */
    this.entities = new Map();
  }

  /** Rebuilds every flat entity from the mirror. */
  rebuild(mirror) {
    this.entities.clear();
    for (const e of mirror.entities.values()) {
      const f = this.adapter.flat(e);
      if (f !== null) this.entities.set(f.id, f);
    }
  }

  get(id) {
    return this.entities.get(id);
  }

  /**
   * Follows one applied snapshot: `change` is what `Mirror.apply` returned. Returns
   * {full, prevTick, spawned, updated: [{old, now, moved}], despawned} over flat entities
   * (`moved`: the position or angle changed).
   */
  apply(change, mirror) {
    const out = { full: change.full, prevTick: change.prevTick, spawned: [], updated: [], despawned: [] };
    if (change.full) {
      const before = this.entities;
      this.entities = new Map();
      this.rebuild(mirror);
      for (const [id, f] of before) if (!this.entities.has(id)) out.despawned.push(f);
      for (const f of this.entities.values()) out.spawned.push(f);
      return out;
    }
    for (const e of change.despawned) {
      const f = this.entities.get(e.id);
      if (f === undefined) continue;
      this.entities.delete(e.id);
      out.despawned.push(f);
    }
    for (const e of change.spawned) {
      const f = this.adapter.flat(e);
      if (f === null) continue;
      this.entities.set(f.id, f);
      out.spawned.push(f);
    }
    for (const { now } of change.updated) {
      const old = this.entities.get(now.id);
      const f = this.adapter.flat(now);
      if (f === null) {
        if (old !== undefined) {
          this.entities.delete(now.id);
          out.despawned.push(old);
        }
        continue;
      }
      this.entities.set(f.id, f);
      if (old === undefined) {
        out.spawned.push(f);
        continue;
      }
      out.updated.push({ old, now: f, moved: f.x !== old.x || f.y !== old.y || f.angle !== old.angle });
    }
    return out;
  }
}
