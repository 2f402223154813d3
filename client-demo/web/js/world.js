// Facts about the game world shared by the netcode and the renderer: fixed-point scale,
// button bits, and how a player's colour is derived from their id.

/** Fixed-point steps per world unit (shared/src/quant.rs POS_SCALE). */
export const POS_SCALE = 16;

/** Entity angle steps per turn (quant.rs ANGLE_STEPS). */
export const ANGLE_STEPS = 256;

/** Aim steps per turn (quant.rs AIM_STEPS). */
export const AIM_STEPS = 65536;

/** Seconds of spawn protection after a (re)spawn (server rules.rs shield_secs). */
export const SHIELD_SECS = 1.5;

/** An 8-bit angle (possibly fractional, interpolated) in radians. */
export function angleRad(steps) {
  return (steps / ANGLE_STEPS) * Math.PI * 2;
}

/** Radians → 16-bit aim, as quant::angle_to_aim. */
export function aimFromRad(rad) {
  const steps = Math.round((rad / (Math.PI * 2)) * AIM_STEPS);
  return ((steps % AIM_STEPS) + AIM_STEPS) % AIM_STEPS;
}

/** A player's hue, spread around the wheel by the golden angle. */
export function playerHue(playerId) {
  return (playerId * 137.508 + 200) % 360;
}

/** The unit direction of movement bits (server movement.rs `direction`). */
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
