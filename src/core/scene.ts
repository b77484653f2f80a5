import type { Bond } from './bonds';
import type { Vec3 } from './math3';
import type { Structure } from './structure';

/**
 * What the 3D view draws, as plain data: the atoms of an n1 x n2 x n3 block
 * of cells, the bonds between them, and "ghost" atoms just outside the block
 * wherever a bond crosses its boundary, so periodic bonding is visible.
 * Kept DOM-free so it can be tested and timed in Node.
 */
export interface SceneAtom {
  /** Site index in the unit cell. */
  site: number;
  /** Which cell of the block (or just outside it, for ghosts). */
  cell: Vec3;
  element: string;
  position: Vec3;
  ghost: boolean;
}

export interface Scene {
  atoms: SceneAtom[];
  /** Pairs of indices into atoms. */
  bonds: [number, number][];
  /** The 12 edges of the block's outline. */
  cellEdges: [Vec3, Vec3][];
}

export const MAX_REPEAT = 6;

export function buildScene(s: Structure, bonds: readonly Bond[], repeat: Vec3, showGhosts = true): Scene {
  const reps = repeat.map((n, k) => (s.pbc[k] ? Math.max(1, Math.min(MAX_REPEAT, Math.floor(n))) : 1)) as Vec3;
  const wrapped = s.wrapped();
  const atoms: SceneAtom[] = [];
  const index = new Map<string, number>();
  const key = (site: number, c: Vec3) => `${site},${c[0]},${c[1]},${c[2]}`;
  const inside = (c: Vec3) => c.every((x, k) => x >= 0 && x < reps[k]);
  const place = (site: number, c: Vec3, ghost: boolean): number => {
    const k = key(site, c);
    const found = index.get(k);
    if (found !== undefined) return found;
    const f = wrapped.frac[site];
    atoms.push({
      site,
      cell: c,
      element: s.species[site],
      position: wrapped.lattice.fracToCart([f[0] + c[0], f[1] + c[1], f[2] + c[2]]),
      ghost,
    });
    index.set(k, atoms.length - 1);
    return atoms.length - 1;
  };

  const cells: Vec3[] = [];
  for (let a = 0; a < reps[0]; a++) for (let b = 0; b < reps[1]; b++) for (let c = 0; c < reps[2]; c++) cells.push([a, b, c]);
  for (const c of cells) for (let i = 0; i < s.numSites; i++) place(i, c, false);

  // Bond images were found on the raw coordinates; wrapping shifts a site by
  // an integer vector, which shifts the bond's image by the difference.
  const shift = s.frac.map((f, i) => f.map((x, k) => Math.round(x - wrapped.frac[i][k])) as Vec3);
  const out: [number, number][] = [];
  for (const bond of bonds) {
    const img = bond.image.map((x, k) => x + shift[bond.j][k] - shift[bond.i][k]) as Vec3;
    for (const c of cells) {
      const forward: Vec3 = [c[0] + img[0], c[1] + img[1], c[2] + img[2]];
      if (inside(forward)) out.push([index.get(key(bond.i, c))!, index.get(key(bond.j, forward))!]);
      else if (showGhosts) out.push([index.get(key(bond.i, c))!, place(bond.j, forward, true)]);
      // The same bond seen from j's side, when i's end falls outside the block.
      const backward: Vec3 = [c[0] - img[0], c[1] - img[1], c[2] - img[2]];
      if (!inside(backward) && showGhosts) out.push([index.get(key(bond.j, c))!, place(bond.i, backward, true)]);
    }
  }

  return { atoms, bonds: out, cellEdges: cellOutline(s, reps) };
}

/** The 12 edges of the outline of an n1 x n2 x n3 block of cells (Å). */
export function cellOutline(s: Structure, repeat: Vec3): [Vec3, Vec3][] {
  const reps = repeat.map((n, k) => (s.pbc[k] ? Math.max(1, Math.min(MAX_REPEAT, Math.floor(n))) : 1)) as Vec3;
  const edge = (f: Vec3): Vec3 => s.lattice.fracToCart([f[0] * reps[0], f[1] * reps[1], f[2] * reps[2]]);
  const cellEdges: [Vec3, Vec3][] = [];
  const corners: Vec3[] = [];
  for (const a of [0, 1]) for (const b of [0, 1]) for (const c of [0, 1]) corners.push([a, b, c]);
  for (const p of corners) {
    for (let k = 0; k < 3; k++) {
      if (p[k] === 0) {
        const q = [...p] as Vec3;
        q[k] = 1;
        cellEdges.push([edge(p), edge(q)]);
      }
    }
  }
  return cellEdges;
}
