// Facts about the game world shared by the netcode and the renderers: the flat entity
// shape's fixed-point scale and angle steps, the built-in games' button bits and aim
// steps, and how a player's colour is derived from their id.

/** Steps per world unit of a flat entity's x and y (the built-in games' Body scale). */
export const POS_SCALE = 16;

/** Steps per turn of a flat entity's angle (the built-in games' 8-bit Body angle). */
export const ANGLE_STEPS = 256;

/** Aim steps per turn (server games/controls.rs AIM_STEPS). */
export const AIM_STEPS = 65536;

/** Bits of the built-in games' `buttons` input field (server games/controls.rs). */
export const BUTTONS = { UP: 1, DOWN: 2, LEFT: 4, RIGHT: 8, FIRE: 16 };

/** Seconds of spawn protection after a (re)spawn (server demo Rules::shield_secs). */
export const SHIELD_SECS = 1.5;

/** An 8-bit angle (possibly fractional, interpolated) in radians. */
export function angleRad(steps) {
  return (steps / ANGLE_STEPS) * Math.PI * 2;
}

/** A 16-bit aim in radians. */
export function aimRad(aim) {
  return (aim / AIM_STEPS) * Math.PI * 2;
}

/** Radians → 16-bit aim (65536 steps per turn, 0 = +x, toward +y). */
export function aimFromRad(rad) {
  const steps = Math.round((rad / (Math.PI * 2)) * AIM_STEPS);
  return ((steps % AIM_STEPS) + AIM_STEPS) % AIM_STEPS;
}

/** A player's hue, spread around the wheel by the golden angle. */
export function playerHue(playerId) {
  return (playerId * 137.508 + 200) % 360;
}

/** The unit direction of movement bits (server games/controls.rs `direction`). */
export function direction(buttons) {
  let dx = 0;
  let dy = 0;
  if (buttons & 1) dy -= 1;
  if (buttons & 2) dy += 1;
  if (buttons & 4) dx -= 1;
  if (buttons & 8) dx += 1;
  const len = Math.hypot(dx, dy);
  return len === 0 ? [0, 0] : [dx / len, dy / len];
}
