/**
 * The app's keyboard shortcuts (listed to the user by ShortcutsDialog on
 * `?`): which key does what. A key typed into a form field, or pressed
 * with Ctrl, Cmd or Alt, is never a shortcut.
 */
import type { Vec3 } from '../core/math3';
import type { Mode } from './workbench.svelte';

export type ShortcutAction =
  | { kind: 'shortcuts' }
  | { kind: 'escape' }
  | { kind: 'present' }
  | { kind: 'reset-camera' }
  | { kind: 'view-along'; uvw: Vec3 }
  | { kind: 'mode'; mode: Mode };

export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  /** The key went to a text field, select or editable element. */
  typing: boolean;
}

const MODES: Record<string, Mode> = { '1': 'library', '2': 'defects', '3': 'generate' };
const AXES: Record<string, Vec3> = { a: [1, 0, 0], b: [0, 1, 0], c: [0, 0, 1] };

export function shortcutFor(e: KeyPress): ShortcutAction | null {
  if (e.ctrlKey || e.metaKey || e.altKey || e.typing) return null;
  const k = e.key;
  if (k === '?') return { kind: 'shortcuts' };
  if (k === 'Escape') return { kind: 'escape' };
  if (k === 'p' || k === 'P') return { kind: 'present' };
  if (k === 'r') return { kind: 'reset-camera' };
  if (k in AXES) return { kind: 'view-along', uvw: AXES[k] };
  if (k in MODES) return { kind: 'mode', mode: MODES[k] };
  return null;
}

/** Whether a key event's target is a place where the user types. */
export function isTyping(target: EventTarget | null): boolean {
  return Boolean((target as HTMLElement | null)?.closest?.('input, select, textarea, [contenteditable]'));
}
