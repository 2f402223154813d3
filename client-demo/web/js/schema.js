// The replication schema a game declares and the server sends in Welcome, ported from
// shared/src/schema.rs: the checks `Schema::new` makes, the per-component tables the
// mirror needs (numeric and string value counts, the wrap bits of each numeric value),
// per-component-set layouts (cached), and display values (dequantization).
//
// The definition keeps exactly the serde JSON form of `SchemaDef` (externally tagged
// enums: {"Fixed": {scale, min, max}}, "Bool", …; prims as "U8" …), so `toJSON()` gives
// what the server serves on /schema. Component sets and field masks are Numbers below
// 2^32 and BigInts from 2^32 up (see `bitsOf`).

/** Why a schema definition was refused (the codec reports it as a CodecError). */
export class SchemaError extends Error {}

/** Most components (an entity's component set is a u64). */
export const MAX_COMPONENTS = 64;
/** Most numeric fields in all (an update's field mask is a u64). */
export const MAX_NUMERIC_FIELDS = 64;

const I32_MAX = 2147483647;
const TAU = Math.PI * 2;

/** The variant name of an encoding ("Fixed", "Bool", …). */
export function encodingKind(enc) {
  return typeof enc === 'string' ? enc : Object.keys(enc)[0];
}

/** The fields of an encoding's variant ({} for a unit variant). */
function encodingArgs(enc) {
  return typeof enc === 'string' ? {} : enc[encodingKind(enc)];
}

/** Whether an encoding is a string (kept apart from the numeric values). */
export function isStr(enc) {
  return encodingKind(enc) === 'Str';
}

/** An angle's wrap bits; 0 for every other encoding. */
export function wrapBits(enc) {
  return encodingKind(enc) === 'Angle' ? enc.Angle.bits : 0;
}

/** A Player-encoded value as the player id, or null for none (0). */
export function playerOf(q) {
  return q === 0 ? null : (q - 1) >>> 0;
}

/**
 * A quantized value as shown: Fixed → units; Angle → radians in (−π, π]; Int and Bool →
 * the integer; Enum → the variant name; Player → the player id or null; Str → itself.
 */
export function dequantize(enc, q) {
  switch (encodingKind(enc)) {
    case 'Fixed':
      return q / enc.Fixed.scale;
    case 'Angle': {
      const r = (q / 2 ** enc.Angle.bits) * TAU;
      return r > Math.PI ? r - TAU : r;
    }
    case 'Enum':
      return enc.Enum.variants[q] ?? q;
    case 'Player':
      return playerOf(q);
    default:
      return q;
  }
}

/**
 * Calls `fn` with each set bit index of a component set or field mask (Number < 2^32,
 * or BigInt), lowest first.
 */
export function forEachBit(mask, fn) {
  if (typeof mask === 'bigint') {
    forEachBitOfWord(Number(BigInt.asUintN(32, mask)), 0, fn);
    forEachBitOfWord(Number(BigInt.asUintN(32, mask >> 32n)), 32, fn);
  } else {
    forEachBitOfWord(mask, 0, fn);
  }
}

function forEachBitOfWord(word, base, fn) {
  let m = word;
  while (m !== 0) {
    const low = m & -m;
    fn(base + 31 - Math.clz32(low));
    m = (m ^ low) >>> 0;
  }
}

/** The set bit indices of a component set or field mask, lowest first. */
export function bitsOf(mask) {
  const out = [];
  forEachBit(mask, (i) => out.push(i));
  return out;
}

/** The highest set bit of a mask, or -1 for an empty one. */
export function highestBit(mask) {
  if (typeof mask === 'bigint') {
    const hi = Number(BigInt.asUintN(32, mask >> 32n));
    if (hi !== 0) return 63 - Math.clz32(hi);
    return 31 - Math.clz32(Number(BigInt.asUintN(32, mask)));
  }
  return 31 - Math.clz32(mask);
}

function checkField(component, f) {
  const bad = (why) => {
    throw new SchemaError(`field ${component}.${f.name}: ${why}`);
  };
  const a = encodingArgs(f.encoding);
  switch (encodingKind(f.encoding)) {
    case 'Fixed':
      if (!(Number.isFinite(a.scale) && a.scale > 0)) bad('scale must be a positive number');
      if (!(Number.isFinite(a.min) && Number.isFinite(a.max) && a.min <= a.max)) bad('min must not exceed max');
      if (Math.abs(a.max * a.scale) > I32_MAX || Math.abs(a.min * a.scale) > I32_MAX) bad('range times scale exceeds 32 bits');
      break;
    case 'Angle':
      if (!(a.bits >= 1 && a.bits <= 16)) bad('angle bits must be 1 to 16');
      break;
    case 'Int':
      if (a.min > a.max) bad('min must not exceed max');
      break;
    case 'Enum':
      if (a.variants.length === 0) bad('an enum needs at least one variant');
      break;
    default:
  }
}

const LAYOUT_CACHE_MAX = 1024;

/** A checked schema with the tables that apply, checksum and display need. */
export class Schema {
  /** Checks `def` (the SchemaDef JSON form) as `Schema::new` does; throws SchemaError. */
  constructor(def) {
    if (def.components.length > MAX_COMPONENTS) {
      throw new SchemaError(`${def.components.length} components registered; at most ${MAX_COMPONENTS} are supported`);
    }
    this.def = def;
    /** Per component: {nums, strs, wraps: [bits per numeric field], slots: [[isStr, index]]}. */
    this.tables = [];
    /** Component index by name. */
    this.byName = new Map();
    let totalNums = 0;
    def.components.forEach((c, i) => {
      if (this.byName.has(c.name)) throw new SchemaError(`component ${c.name} is registered twice`);
      this.byName.set(c.name, i);
      const t = { nums: 0, strs: 0, wraps: [], slots: [] };
      for (const f of c.fields) {
        checkField(c.name, f);
        if (isStr(f.encoding)) {
          t.slots.push([true, t.strs]);
          t.strs += 1;
        } else {
          t.slots.push([false, t.nums]);
          t.wraps.push(wrapBits(f.encoding));
          t.nums += 1;
        }
      }
      totalNums += t.nums;
      this.tables.push(t);
    });
    if (totalNums > MAX_NUMERIC_FIELDS) {
      throw new SchemaError(`${totalNums} numeric fields declared; at most ${MAX_NUMERIC_FIELDS} are supported`);
    }
    /** The position: {c, x, y} (component index, numeric slots of x and y), or null. */
    this.position = null;
    if (def.position !== null && def.position !== undefined) {
      const p = def.position;
      const bad = () => new SchemaError(`position ${p.component}.${p.x}/${p.y} names no numeric field of a registered component`);
      const c = this.byName.get(p.component);
      if (c === undefined) throw bad();
      const slot = (name) => {
        const f = this.componentField(c, name);
        return f === null || f.str ? -1 : f.n;
      };
      const x = slot(p.x);
      const y = slot(p.y);
      if (x < 0 || y < 0) throw bad();
      this.position = { c, x, y };
    }
    this.layouts = new Map();
  }

  /** The serde JSON form (SchemaDef). */
  toJSON() {
    return this.def;
  }

  get game() {
    return this.def.game;
  }

  /** A parameter's value by name, or undefined. */
  param(name) {
    const p = this.def.params.find((q) => q.name === name);
    return p === undefined ? undefined : p.value;
  }

  /** The index of the component named `name`, or undefined. */
  componentIndex(name) {
    return this.byName.get(name);
  }

  /**
   * Field `name` of component `c` (an index, or undefined for none): {str, n, encoding},
   * `n` its index among the component's string or numeric values; null when absent.
   */
  componentField(c, name) {
    if (c === undefined) return null;
    const fields = this.def.components[c].fields;
    const i = fields.findIndex((f) => f.name === name);
    if (i < 0) return null;
    const [str, n] = this.tables[c].slots[i];
    return { str, n, encoding: fields[i].encoding };
  }

  get componentCount() {
    return this.tables.length;
  }

  /** Whether a component set names only registered components. */
  validMask(mask) {
    const n = this.tables.length;
    if (n >= 64) return true;
    if (typeof mask === 'bigint') return mask >> BigInt(n) === 0n;
    return n >= 32 || mask >>> n === 0;
  }

  /**
   * The value layout of an entity with component set `mask` (cached): `valid`, `nums`
   * and `strs` (how many values), `wraps` (wrap bits per numeric value), and `offsets`
   * (per component index: [num offset, str offset], or undefined when absent).
   */
  layout(mask) {
    let l = this.layouts.get(mask);
    if (l !== undefined) return l;
    l = { valid: this.validMask(mask), nums: 0, strs: 0, wraps: [], offsets: [], components: [] };
    for (const c of bitsOf(mask)) {
      const t = this.tables[c];
      if (t === undefined) continue;
      l.offsets[c] = [l.nums, l.strs];
      l.components.push(c);
      l.nums += t.nums;
      l.strs += t.strs;
      for (const w of t.wraps) l.wraps.push(w);
    }
    if (this.layouts.size >= LAYOUT_CACHE_MAX) this.layouts.clear();
    this.layouts.set(mask, l);
    return l;
  }

  /** Whether an entity's component set includes component `c`. */
  has(mask, c) {
    if (c === undefined || c < 0) return false;
    if (typeof mask === 'bigint') return ((mask >> BigInt(c)) & 1n) === 1n;
    return c < 32 && ((mask >>> c) & 1) === 1;
  }

  /**
   * Where field `field` (name) of component `c` sits in an entity with `mask`:
   * {str: bool, index, encoding} or null when the entity lacks the component or the
   * component has no such field.
   */
  fieldSlot(mask, c, field) {
    const off = this.layout(mask).offsets[c];
    if (off === undefined) return null;
    const f = this.componentField(c, field);
    if (f === null) return null;
    return { str: f.str, index: (f.str ? off[1] : off[0]) + f.n, encoding: f.encoding };
  }

  /** The quantized position [x, y] of an entity, or null when it has none. */
  positionOf(e) {
    const p = this.position;
    if (p === null) return null;
    const off = this.layout(e.components).offsets[p.c];
    if (off === undefined) return null;
    const x = e.nums[off[0] + p.x];
    const y = e.nums[off[0] + p.y];
    return x === undefined || y === undefined ? null : [x, y];
  }

  /** The encodings of the position's x and y fields, or null. */
  positionEncodings() {
    const p = this.position;
    if (p === null) return null;
    const fields = this.def.components[p.c].fields.filter((f) => !isStr(f.encoding));
    return [fields[p.x].encoding, fields[p.y].encoding];
  }

  /** An entity as {Component: {field: shown value}} (for debugging and tests). */
  read(e) {
    const out = {};
    const l = this.layout(e.components);
    for (const c of l.components) {
      const comp = this.def.components[c];
      const [n0, s0] = l.offsets[c];
      const values = {};
      comp.fields.forEach((f, i) => {
        const [str, k] = this.tables[c].slots[i];
        values[f.name] = str ? e.strs[s0 + k] : dequantize(f.encoding, e.nums[n0 + k]);
      });
      out[comp.name] = values;
    }
    return out;
  }
}
