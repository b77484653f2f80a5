/**
 * The defect editor's model, DOM-free: a host monolayer, an n x n supercell
 * and a set of edits (site → new species, 0 for a vacancy), with undo and
 * redo. It produces the defective structure for the viewer and the
 * DefectConfig for the sparse-representation model.
 *
 * Sites are indices into the PRISTINE supercell. The viewer shows the
 * defective structure (vacancies removed), so `pristineIndex` maps a picked
 * atom back.
 */
import { elementByZ, elementBySymbol } from '../elements';
import { builtinById } from '../library/builtins';
import { repeat, type Structure } from '../structure';
import type { DefectConfig, HostName } from './representation';

/** The built-in monolayer behind each host (references in src/core/library/builtins.ts). */
export const HOST_BUILTINS: Record<HostName, string> = {
  MoS2: 'mos2-monolayer',
  WSe2: 'wse2-monolayer',
  hBN: 'hbn-monolayer',
  GaSe: 'gase-monolayer',
  InSe: 'inse-monolayer',
  BP: 'phosphorene',
};

export const MIN_SIZE = 2;
export const MAX_SIZE = 10;

export interface EditorState {
  host: HostName;
  size: number;
  /** [pristine site, new Z (0 = vacancy)], sorted by site. */
  edits: readonly (readonly [number, number])[];
}

function pristineOf(host: HostName, size: number): Structure {
  const entry = builtinById(HOST_BUILTINS[host]);
  if (!entry) throw new Error(`no built-in structure for ${host}`);
  return repeat(entry.build(), [size, size, 1]).with({ title: `${host} ${size}x${size}` });
}

export class DefectEditor {
  private past: EditorState[] = [];
  private future: EditorState[] = [];
  private cache: { key: string; pristine: Structure } | null = null;

  constructor(private current: EditorState = { host: 'MoS2', size: 5, edits: [] }) {
    if (!Number.isInteger(current.size) || current.size < MIN_SIZE || current.size > MAX_SIZE)
      throw new RangeError(`supercell size must be ${MIN_SIZE}..${MAX_SIZE}`);
  }

  get state(): EditorState {
    return this.current;
  }

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }

  private commit(next: EditorState): void {
    this.past.push(this.current);
    this.future = [];
    this.current = next;
  }

  undo(): void {
    const prev = this.past.pop();
    if (!prev) return;
    this.future.push(this.current);
    this.current = prev;
  }

  redo(): void {
    const next = this.future.pop();
    if (!next) return;
    this.past.push(this.current);
    this.current = next;
  }

  /** A new host or size starts from the pristine supercell (undoable). */
  setHost(host: HostName, size = this.current.size): void {
    if (!Number.isInteger(size) || size < MIN_SIZE || size > MAX_SIZE) throw new RangeError(`supercell size must be ${MIN_SIZE}..${MAX_SIZE}`);
    if (host === this.current.host && size === this.current.size) return;
    this.commit({ host, size, edits: [] });
  }

  /** Replaces the whole configuration in one undoable step (a shared link, a saved record). */
  load(other: DefectEditor): void {
    this.commit(other.state);
  }

  clear(): void {
    if (this.current.edits.length) this.commit({ ...this.current, edits: [] });
  }

  pristine(): Structure {
    const key = `${this.current.host}:${this.current.size}`;
    if (this.cache?.key !== key) this.cache = { key, pristine: pristineOf(this.current.host, this.current.size) };
    return this.cache.pristine;
  }

  /**
   * Puts `symbol` (or a vacancy, null) on a pristine site. Putting the
   * pristine species back removes the edit.
   */
  setSite(site: number, symbol: string | null): void {
    const p = this.pristine();
    if (!Number.isInteger(site) || site < 0 || site >= p.numSites) throw new RangeError(`site ${site} is not in the ${p.numSites}-site supercell`);
    let z = 0;
    if (symbol !== null) {
      const el = elementBySymbol(symbol);
      if (!el) throw new RangeError(`unknown element ${symbol}`);
      z = el.Z;
    }
    const pristineZ = elementBySymbol(p.species[site])!.Z;
    const edits = this.current.edits.filter(([s]) => s !== site);
    if (z !== pristineZ) edits.push([site, z]);
    edits.sort((x, y) => x[0] - y[0]);
    const same = edits.length === this.current.edits.length && edits.every(([s, e], k) => s === this.current.edits[k][0] && e === this.current.edits[k][1]);
    if (!same) this.commit({ ...this.current, edits });
  }

  /** Pristine site of atom `index` of structure() (which has the vacancies removed). */
  pristineIndex(index: number): number {
    return this.kept()[index];
  }

  private kept(): number[] {
    const vacant = new Set(this.current.edits.filter(([, z]) => z === 0).map(([s]) => s));
    return [...Array(this.pristine().numSites).keys()].filter((i) => !vacant.has(i));
  }

  /** The defective structure: vacancies removed, substitutions in place. */
  structure(): Structure {
    const p = this.pristine();
    const subst = new Map(this.current.edits);
    const keep = this.kept();
    const label = this.current.edits.map(([s, z]) => `${z === 0 ? 'V' : elementByZ(z)!.symbol}_${p.species[s]}${s}`).join(' ');
    return p.with({
      species: keep.map((i) => (subst.has(i) ? elementByZ(subst.get(i)!)!.symbol : p.species[i])),
      frac: keep.map((i) => p.frac[i]),
      title: label ? `${p.title} + ${label}` : p.title,
      properties: { ...p.properties, defects: this.current.edits.map(([site, z]) => ({ site, z })) },
    });
  }

  config(): DefectConfig {
    return defectConfig(this.current.host, this.pristine(), this.current.edits);
  }
}

/** The model's view of a pristine supercell plus edits. */
export function defectConfig(host: HostName, pristine: Structure, edits: readonly (readonly [number, number])[]): DefectConfig {
  const cart = pristine.frac.map((f) => pristine.lattice.fracToCart(f));
  const zMid = cart.reduce((s, r) => s + r[2], 0) / cart.length;
  return {
    host,
    lattice: pristine.lattice.matrix,
    pristineSites: pristine.numSites,
    zMid,
    defects: edits.map(([site, z]) => ({ zOld: elementBySymbol(pristine.species[site])!.Z, zNew: z, position: cart[site] })),
  };
}
