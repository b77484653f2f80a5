/**
 * The scene as a link: which mode, which built-in structure, the supercell
 * and drawing options, the camera, and the defect configuration, written into
 * the URL's fragment (`#m=defects&d=MoS2:5x5:V@12&r=2x2x1&v=…`) so that a
 * link reopens the same scene. The fragment never reaches a server, so the
 * offline app (service worker) serves any link. Imported structures live in
 * the visitor's own IndexedDB and cannot be shared this way; the link then
 * carries the mode and view only.
 *
 * Reading is forgiving: a part that does not parse is dropped with a reason
 * (shown to the visitor), and the rest of the scene still opens.
 */
import { builtinById } from './library/builtins';
import { MAX_REPEAT } from './scene';
import { parseDefectSpec } from './defects/spec';
import type { Vec3 } from './math3';

export type SharedMode = 'library' | 'defects' | 'generate';
export type SharedStyle = 'ball-and-stick' | 'spacefill' | 'sticks';

export interface SharedScene {
  mode: SharedMode;
  /** Built-in structure id (library mode). */
  builtin?: string;
  repeat?: Vec3;
  style?: SharedStyle;
  /** Drawing toggles; absent keys keep the app's defaults. */
  cell?: boolean;
  axes?: boolean;
  labels?: boolean;
  ghosts?: boolean;
  polyhedra?: boolean;
  /** 3Dmol's view: translation (3), zoom, rotation quaternion (4). */
  view?: number[];
  /** Defect configuration, HOST:NxN:EDITS (defect mode; edits may be empty). */
  defects?: string;
}

const MODES: SharedMode[] = ['library', 'defects', 'generate'];
const STYLES: SharedStyle[] = ['ball-and-stick', 'spacefill', 'sticks'];
const TOGGLES = ['cell', 'axes', 'labels', 'ghosts', 'polyhedra'] as const;

/** Writes the scene as a fragment (without '#'); only what differs from a fresh start. */
export function encodeScene(s: SharedScene): string {
  const p = new URLSearchParams();
  if (s.mode !== 'library') p.set('m', s.mode);
  if (s.builtin && s.mode === 'library') p.set('s', s.builtin);
  if (s.defects && s.mode === 'defects') p.set('d', s.defects);
  if (s.repeat && s.repeat.some((n) => n !== 1)) p.set('r', s.repeat.join('x'));
  if (s.style && s.style !== 'ball-and-stick') p.set('style', s.style);
  const flags = TOGGLES.filter((k) => s[k] !== undefined).map((k) => `${s[k] ? '' : '-'}${k}`);
  if (flags.length) p.set('show', flags.join(','));
  // Four decimals: sub-pixel at any zoom people use, and a short link.
  if (s.view && s.view.length === 8 && s.view.every(Number.isFinite)) p.set('v', s.view.map((x) => Number(x.toFixed(4))).join(','));
  // URLSearchParams escapes ':' , '@' and ','; they are safe in a fragment and easier to read unescaped.
  return p.toString().replace(/%3A/g, ':').replace(/%40/g, '@').replace(/%2C/g, ',');
}

/** Reads a fragment (with or without '#'); unknown or broken parts are reported, not fatal. */
export function decodeScene(fragment: string): { scene: SharedScene; problems: string[] } {
  const p = new URLSearchParams(fragment.replace(/^#/, ''));
  const problems: string[] = [];
  const scene: SharedScene = { mode: 'library' };
  const m = p.get('m');
  if (m !== null) {
    if ((MODES as string[]).includes(m)) scene.mode = m as SharedMode;
    else problems.push(`unknown mode '${m}'`);
  }
  const id = p.get('s');
  if (id !== null) {
    if (builtinById(id)) scene.builtin = id;
    else problems.push(`no built-in structure '${id}'`);
  }
  const d = p.get('d');
  if (d !== null) {
    try {
      parseDefectSpec(d, { allowEmpty: true });
      scene.defects = d;
    } catch (e) {
      problems.push(`defects: ${(e as Error).message}`);
    }
  }
  const r = p.get('r');
  if (r !== null) {
    const parts = r.split('x').map(Number);
    if (parts.length === 3 && parts.every((n) => Number.isInteger(n) && n >= 1 && n <= MAX_REPEAT)) scene.repeat = parts as Vec3;
    else problems.push(`supercell '${r}' is not AxBxC with whole numbers 1 to ${MAX_REPEAT}`);
  }
  const style = p.get('style');
  if (style !== null) {
    if ((STYLES as string[]).includes(style)) scene.style = style as SharedStyle;
    else problems.push(`unknown style '${style}'`);
  }
  const show = p.get('show');
  if (show !== null) {
    for (const flag of show.split(',').filter(Boolean)) {
      const key = flag.replace(/^-/, '');
      if ((TOGGLES as readonly string[]).includes(key)) scene[key as (typeof TOGGLES)[number]] = !flag.startsWith('-');
      else problems.push(`unknown display option '${key}'`);
    }
  }
  const v = p.get('v');
  if (v !== null) {
    const view = v.split(',').map(Number);
    const q = view.slice(4);
    // The rotation must be a unit quaternion: a hand-edited one would shear nothing but confuse the camera.
    if (view.length === 8 && view.every(Number.isFinite) && Math.abs(Math.hypot(...q) - 1) < 1e-2 && view[3] !== 0) scene.view = view;
    else problems.push('the camera view is not 8 numbers with a unit rotation');
  }
  return { scene, problems };
}
