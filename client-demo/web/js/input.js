// Keyboard and mouse: which buttons are held (WASD/arrows move, space or the mouse
// fires) and where the mouse points. Calls `onChange(buttons, timeMs)` the moment the
// held buttons change, with the event's own timestamp, so an input goes out without
// waiting for the next frame and prediction starts from the real key-press time.

import { BUTTONS } from './world.js';

const KEYS = {
  KeyW: BUTTONS.UP, ArrowUp: BUTTONS.UP,
  KeyS: BUTTONS.DOWN, ArrowDown: BUTTONS.DOWN,
  KeyA: BUTTONS.LEFT, ArrowLeft: BUTTONS.LEFT,
  KeyD: BUTTONS.RIGHT, ArrowRight: BUTTONS.RIGHT,
  Space: BUTTONS.FIRE,
};

export class Controls {
  /**
   * @param {HTMLElement} surface the element receiving mouse input (the canvas)
   * @param {(buttons: number, timeMs: number) => void} onChange
   */
  constructor(surface, onChange) {
    this.onChange = onChange;
    this.keys = new Set();
    this.mouseFire = false;
    /** Mouse position in CSS pixels relative to the surface; null until it moves. */
    this.mouse = null;
    /** When false (typing in chat, name prompt up), keys are ignored and nothing is held. */
    this.enabled = true;
    this.buttons = 0;

    window.addEventListener('keydown', (e) => {
      if (!this.enabled || !(e.code in KEYS) || isTyping(e)) return;
      e.preventDefault();
      this.keys.add(e.code);
      this.update(e.timeStamp);
    });
    window.addEventListener('keyup', (e) => {
      if (!this.keys.delete(e.code)) return;
      this.update(e.timeStamp);
    });
    window.addEventListener('blur', () => this.releaseAll(performance.now()));
    surface.addEventListener('mousemove', (e) => {
      this.mouse = { x: e.offsetX, y: e.offsetY };
    });
    surface.addEventListener('mousedown', (e) => {
      if (e.button !== 0 || !this.enabled) return;
      this.mouse = { x: e.offsetX, y: e.offsetY };
      this.mouseFire = true;
      this.update(e.timeStamp);
    });
    window.addEventListener('mouseup', (e) => {
      if (e.button !== 0 || !this.mouseFire) return;
      this.mouseFire = false;
      this.update(e.timeStamp);
    });
    surface.addEventListener('contextmenu', (e) => e.preventDefault());
  }

  /** Recomputes the held buttons; reports a change. */
  update(t) {
    let b = 0;
    if (this.enabled) {
      for (const k of this.keys) b |= KEYS[k];
      if (this.mouseFire) b |= BUTTONS.FIRE;
    }
    if (b !== this.buttons) {
      this.buttons = b;
      this.onChange(b, t);
    }
  }

  releaseAll(t) {
    this.keys.clear();
    this.mouseFire = false;
    this.update(t);
  }

  setEnabled(on, t = performance.now()) {
    this.enabled = on;
    if (!on) this.releaseAll(t);
  }
}

function isTyping(e) {
  const el = e.target;
  return el instanceof HTMLElement && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.isContentEditable);
}
