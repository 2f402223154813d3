// The adapter for the built-in games (demo, arena, cubes): turns a schema-driven entity
// {id, components, nums, strs} into the flat shape the demo's netcode and renderer use,
// {id, kind, owner, name, x, y, angle, score, hp}: kind by which component it has
// (Player, Orb, Shot → 'Projectile', Cube), x and y in 1/16-unit fixed-point steps,
// angle in 256 steps per turn. Also rebuilds the old `welcome.arena` facts from the
// schema's params. Returns null for a schema that is not shaped like the built-in games,
// which then get the generic renderer.

import { encodingKind, isStr, playerOf } from './schema.js';
import { planCache, valueAt } from './flat.js';
import { ANGLE_STEPS, POS_SCALE } from './world.js';

/** The games this adapter is for (schema.game). */
export const BUILTIN_GAMES = new Set(['demo', 'arena', 'cubes']);

/** The world facts the demo page reads (the old Welcome.arena), from the schema's params. */
export function arenaOf(schema) {
  const num = (name) => {
    const v = schema.param(name);
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  };
  return {
    scenario: schema.game,
    width: num('width'),
    height: num('height'),
    player_speed: num('player_speed'),
    player_radius: num('player_radius'),
    orb_radius: num('orb_radius'),
    view_radius: 0,
  };
}

const NUMERIC = (f) => f !== null && !f.str;

/**
 * The demo adapter for `schema`, or null when the schema lacks what the demo page needs:
 * Body {x, y: Fixed, angle: Angle}, Player {owner: Player, name: Str, score, hp} and an
 * input with `buttons: U8` and `aim: U16`.
 */
export function demoAdapter(schema) {
  const idx = (name) => schema.componentIndex(name);
  const field = (c, name) => schema.componentField(c, name);
  const body = idx('Body');
  const player = idx('Player');
  const bx = field(body, 'x');
  const by = field(body, 'y');
  const ba = field(body, 'angle');
  const owner = field(player, 'owner');
  const pname = field(player, 'name');
  const score = field(player, 'score');
  const hp = field(player, 'hp');
  const input = schema.def.input;
  const fits =
    NUMERIC(bx) && encodingKind(bx.encoding) === 'Fixed' &&
    NUMERIC(by) && encodingKind(by.encoding) === 'Fixed' &&
    NUMERIC(ba) && encodingKind(ba.encoding) === 'Angle' &&
    NUMERIC(owner) && encodingKind(owner.encoding) === 'Player' &&
    pname !== null && isStr(pname.encoding) && NUMERIC(score) && NUMERIC(hp) &&
    input.some((f) => f.name === 'buttons' && f.prim === 'U8') &&
    input.some((f) => f.name === 'aim' && f.prim === 'U16');
  if (!fits) return null;

  const orb = idx('Orb');
  const orbHp = field(orb, 'hp');
  const shot = idx('Shot');
  const shotOwner = field(shot, 'owner');
  const cube = idx('Cube');
  const xk = POS_SCALE / bx.encoding.Fixed.scale;
  const yk = POS_SCALE / by.encoding.Fixed.scale;
  const ak = ANGLE_STEPS / 2 ** ba.encoding.Angle.bits;

  // Per component set: where each flat field's value sits (-1 = absent).
  const planOf = planCache((mask) => {
    const l = schema.layout(mask);
    const off = (c) => l.offsets[c];
    const at = (c, f) => (off(c) === undefined || f === null ? -1 : (f.str ? off(c)[1] : off(c)[0]) + f.n);
    let kind = null;
    if (off(player) !== undefined) kind = 'Player';
    else if (orb !== undefined && off(orb) !== undefined) kind = 'Orb';
    else if (shot !== undefined && off(shot) !== undefined) kind = 'Projectile';
    else if (cube !== undefined && off(cube) !== undefined) kind = 'Cube';
    else kind = 'Other';
    return {
      body: off(body) !== undefined,
      kind,
      x: at(body, bx),
      y: at(body, by),
      angle: at(body, ba),
      owner: kind === 'Player' ? at(player, owner) : kind === 'Projectile' ? at(shot, shotOwner) : -1,
      name: kind === 'Player' ? at(player, pname) : -1,
      score: kind === 'Player' ? at(player, score) : -1,
      hp: kind === 'Player' ? at(player, hp) : kind === 'Orb' ? at(orb, orbHp) : -1,
    };
  });

  return {
    name: 'demo',
    /** The flat entity, or null for one without a Body (nothing to draw). */
    flat(e) {
      const p = planOf(e.components);
      if (!p.body) return null;
      const n = e.nums;
      return {
        id: e.id,
        kind: p.kind,
        owner: playerOf(valueAt(n, p.owner)),
        name: p.name < 0 ? '' : e.strs[p.name],
        x: n[p.x] * xk,
        y: n[p.y] * yk,
        angle: n[p.angle] * ak,
        score: valueAt(n, p.score),
        hp: valueAt(n, p.hp),
      };
    },
  };
}
