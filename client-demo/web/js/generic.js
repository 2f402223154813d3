// The adapter for any game the page has no special code for: reads a schema-driven
// entity by the schema alone into the flat shape the interpolation and the generic
// renderer use, {id, kind: 'Entity', owner, name, x, y, angle, score, hp}. x and y come
// from the schema's position component, dequantized and kept in 1/16-unit steps like
// the demo's; owner is the first field with the Player encoding among the entity's
// components (schema order); name the first non-empty string field; angle the first
// Angle field (256 steps per turn); score and hp fields of those names, if numeric.
// Entities without a position are not drawn (the adapter returns null for them).

import { dequantize, encodingKind, playerOf } from './schema.js';
import { planCache, valueAt } from './flat.js';
import { ANGLE_STEPS, POS_SCALE } from './world.js';

/** The generic adapter for `schema`. */
export function genericAdapter(schema) {
  const encs = schema.positionEncodings();
  // A position in units (an Enum or Player position, however odd, is its raw value).
  const unit = (enc, q) => {
    const v = dequantize(enc, q);
    return typeof v === 'number' ? v : q;
  };
  const planOf = planCache((mask) => {
    const l = schema.layout(mask);
    const p = { pos: null, owner: -1, names: [], angle: -1, angleBits: 0, score: -1, hp: -1 };
    const pos = schema.position;
    if (pos !== null && l.offsets[pos.c] !== undefined) {
      const n0 = l.offsets[pos.c][0];
      p.pos = [n0 + pos.x, n0 + pos.y];
    }
    for (const c of l.components) {
      const [n0, s0] = l.offsets[c];
      schema.def.components[c].fields.forEach((f, i) => {
        const [str, k] = schema.tables[c].slots[i];
        const kind = encodingKind(f.encoding);
        if (str) {
          p.names.push(s0 + k);
          return;
        }
        if (kind === 'Player' && p.owner < 0) p.owner = n0 + k;
        if (kind === 'Angle' && p.angle < 0) {
          p.angle = n0 + k;
          p.angleBits = f.encoding.Angle.bits;
        }
        if (f.name === 'score' && p.score < 0 && (kind === 'Int' || kind === 'Fixed')) p.score = n0 + k;
        if (f.name === 'hp' && p.hp < 0 && (kind === 'Int' || kind === 'Fixed')) p.hp = n0 + k;
      });
    }
    return p;
  });

  return {
    name: 'generic',
    /** The flat entity, or null for one without a position. */
    flat(e) {
      const p = planOf(e.components);
      if (p.pos === null || encs === null) return null;
      const n = e.nums;
      let name = '';
      for (const i of p.names) {
        if (e.strs[i]) {
          name = e.strs[i];
          break;
        }
      }
      return {
        id: e.id,
        kind: 'Entity',
        owner: playerOf(valueAt(n, p.owner)),
        name,
        x: unit(encs[0], n[p.pos[0]]) * POS_SCALE,
        y: unit(encs[1], n[p.pos[1]]) * POS_SCALE,
        angle: p.angle < 0 ? 0 : (n[p.angle] * ANGLE_STEPS) / 2 ** p.angleBits,
        score: valueAt(n, p.score),
        hp: valueAt(n, p.hp),
      };
    },
  };
}
