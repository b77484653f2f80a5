/**
 * Structure prototypes: functions that turn a handful of published lattice
 * parameters into a full Structure. The numbers themselves (and their
 * references) live with the entries in builtins.ts; this module knows only
 * the geometry of each structure type, written out from its Wyckoff
 * positions so that every site can be checked against International Tables
 * (Vol. A) by eye.
 *
 * Conventions shared by every prototype here:
 * - hexagonal cells come from Lattice.hexagonal (gamma = 120°), so the two
 *   "special" in-plane sites are (1/3, 2/3) and (2/3, 1/3);
 * - species are grouped (all A, then all B, ...) because POSCAR writers and
 *   formula displays like contiguous blocks;
 * - fractional coordinates are wrapped into [0, 1) along periodic axes.
 */
import { Lattice } from '../lattice';
import type { Vec3 } from '../math3';
import { type Pbc, Structure, wrapFrac } from '../structure';

/** One sublattice: a species and the fractional positions it occupies. */
type Sublattice = readonly [species: string, positions: readonly Vec3[]];

/** The four lattice points of a face-centred cubic conventional cell. */
const FCC_POINTS: readonly Vec3[] = [
  [0, 0, 0],
  [0, 0.5, 0.5],
  [0.5, 0, 0.5],
  [0.5, 0.5, 0],
];

/** The two lattice points of a body-centred cubic conventional cell. */
const BCC_POINTS: readonly Vec3[] = [
  [0, 0, 0],
  [0.5, 0.5, 0.5],
];

/** Translates every point by t (fractional), e.g. an fcc sublattice shifted by (1/4, 1/4, 1/4). */
function shifted(points: readonly Vec3[], t: Vec3): Vec3[] {
  return points.map((p) => [p[0] + t[0], p[1] + t[1], p[2] + t[2]] as Vec3);
}

/** Assembles a Structure from sublattices, wrapping positions into the cell. */
function assemble(lattice: Lattice, sublattices: readonly Sublattice[], pbc: Pbc = [true, true, true]): Structure {
  const species: string[] = [];
  const frac: Vec3[] = [];
  for (const [el, positions] of sublattices) {
    for (const p of positions) {
      species.push(el);
      frac.push(wrapFrac(p, pbc));
    }
  }
  return new Structure({ lattice, species, frac, pbc });
}

// ---------------------------------------------------------------------------
// Bulk prototypes (all periodic in three dimensions)
// ---------------------------------------------------------------------------

/** Face-centred cubic metal (A1, Cu type), 4-atom conventional cubic cell. */
export function fcc(a: number, el: string): Structure {
  return assemble(Lattice.cubic(a), [[el, FCC_POINTS]]);
}

/** Body-centred cubic metal (A2, W type), 2-atom conventional cubic cell. */
export function bcc(a: number, el: string): Structure {
  return assemble(Lattice.cubic(a), [[el, BCC_POINTS]]);
}

/**
 * Hexagonal close-packed metal (A3, Mg type), P6_3/mmc with the atoms on 2c
 * (1/3, 2/3, 1/4) and (2/3, 1/3, 3/4): the origin sits on an inversion centre,
 * as in International Tables.
 */
export function hcp(a: number, c: number, el: string): Structure {
  return assemble(Lattice.hexagonal(a, c), [
    [
      el,
      [
        [1 / 3, 2 / 3, 0.25],
        [2 / 3, 1 / 3, 0.75],
      ],
    ],
  ]);
}

/**
 * Zinc blende (B3, F-43m): A on the fcc points, B on the fcc points shifted
 * by (1/4, 1/4, 1/4). 8-atom conventional cubic cell.
 */
export function zincblende(a: number, A: string, B: string): Structure {
  return assemble(Lattice.cubic(a), [
    [A, FCC_POINTS],
    [B, shifted(FCC_POINTS, [0.25, 0.25, 0.25])],
  ]);
}

/** Diamond (A4, Fd-3m): zinc blende with both sublattices of one element. */
export function diamond(a: number, el: string): Structure {
  return zincblende(a, el, el);
}

/**
 * Rock salt (B1, Fm-3m): A on 4a (0,0,0), B on 4b (1/2,1/2,1/2); the B fcc
 * sublattice is the A one shifted by half a cell edge. 8-atom conventional cell.
 */
export function rocksalt(a: number, A: string, B: string): Structure {
  return assemble(Lattice.cubic(a), [
    [A, FCC_POINTS],
    [B, shifted(FCC_POINTS, [0.5, 0, 0])],
  ]);
}

/** Caesium chloride (B2, Pm-3m): A at the corner, B at the body centre. Primitive 2-atom cell. */
export function cesiumChloride(a: number, A: string, B: string): Structure {
  return assemble(Lattice.cubic(a), [
    [A, [[0, 0, 0]]],
    [B, [[0.5, 0.5, 0.5]]],
  ]);
}

/**
 * Fluorite (C1, Fm-3m): cation A on 4a (fcc points), anion B on 8c, i.e. at
 * all eight (±1/4, ±1/4, ±1/4), filling every tetrahedral hole. 12-atom
 * conventional cell.
 */
export function fluorite(a: number, A: string, B: string): Structure {
  return assemble(Lattice.cubic(a), [
    [A, FCC_POINTS],
    [B, [...shifted(FCC_POINTS, [0.25, 0.25, 0.25]), ...shifted(FCC_POINTS, [0.75, 0.75, 0.75])]],
  ]);
}

/**
 * Ideal cubic perovskite ABX3 (E2_1, Pm-3m): A at the corner 1a (0,0,0), B at
 * the body centre 1b, X at the three face centres 3c, so B sits in an X6
 * octahedron with B–X = a/2. 5-atom primitive cell.
 */
export function perovskite(a: number, A: string, B: string, X: string): Structure {
  return assemble(Lattice.cubic(a), [
    [A, [[0, 0, 0]]],
    [B, [[0.5, 0.5, 0.5]]],
    [
      X,
      [
        [0.5, 0.5, 0],
        [0.5, 0, 0.5],
        [0, 0.5, 0.5],
      ],
    ],
  ]);
}

/**
 * Wurtzite (B4, P6_3mc): A on 2b at (1/3, 2/3, 0) and (2/3, 1/3, 1/2); B on
 * the same sites raised by u·c. u is the anion parameter (ideal 3/8).
 */
export function wurtzite(a: number, c: number, u: number, A: string, B: string): Structure {
  return assemble(Lattice.hexagonal(a, c), [
    [
      A,
      [
        [1 / 3, 2 / 3, 0],
        [2 / 3, 1 / 3, 0.5],
      ],
    ],
    [
      B,
      [
        [1 / 3, 2 / 3, u],
        [2 / 3, 1 / 3, 0.5 + u],
      ],
    ],
  ]);
}

/**
 * Rutile (C4, P4_2/mnm): cation A on 2a (0,0,0), (1/2,1/2,1/2); anion B on 4f
 * (u,u,0), (-u,-u,0), (1/2+u, 1/2-u, 1/2), (1/2-u, 1/2+u, 1/2). 6-atom cell.
 */
export function rutile(a: number, c: number, u: number, A: string, B: string): Structure {
  return assemble(Lattice.fromParameters(a, a, c, 90, 90, 90), [
    [
      A,
      [
        [0, 0, 0],
        [0.5, 0.5, 0.5],
      ],
    ],
    [
      B,
      [
        [u, u, 0],
        [-u, -u, 0],
        [0.5 + u, 0.5 - u, 0.5],
        [0.5 - u, 0.5 + u, 0.5],
      ],
    ],
  ]);
}

/**
 * 2H-MoS2 type (C7, P6_3/mmc): metal M on 2c (1/3, 2/3, 1/4), (2/3, 1/3, 3/4);
 * chalcogen X on 4f (1/3, 2/3, z) and its images (2/3, 1/3, z+1/2),
 * (2/3, 1/3, -z), (1/3, 2/3, 1/2-z). With z ≈ 0.62 each M sits in a trigonal
 * prism of X, and the two layers of the cell are rotated by 60°. 6-atom cell.
 */
export function h2Bulk(a: number, c: number, z: number, M: string, X: string): Structure {
  return assemble(Lattice.hexagonal(a, c), [
    [
      M,
      [
        [1 / 3, 2 / 3, 0.25],
        [2 / 3, 1 / 3, 0.75],
      ],
    ],
    [
      X,
      [
        [1 / 3, 2 / 3, z],
        [2 / 3, 1 / 3, z + 0.5],
        [2 / 3, 1 / 3, -z],
        [1 / 3, 2 / 3, 0.5 - z],
      ],
    ],
  ]);
}

/**
 * Bernal (AB) graphite (A9, P6_3/mmc): carbon on 2b (0, 0, 1/4), (0, 0, 3/4)
 * and 2c (1/3, 2/3, 1/4), (2/3, 1/3, 3/4). Half the atoms of one layer sit
 * directly above atoms of the next, half above hexagon centres. 4-atom cell.
 */
export function graphiteAB(a: number, c: number, el: string): Structure {
  return assemble(Lattice.hexagonal(a, c), [
    [
      el,
      [
        [0, 0, 0.25],
        [0, 0, 0.75],
        [1 / 3, 2 / 3, 0.25],
        [2 / 3, 1 / 3, 0.75],
      ],
    ],
  ]);
}

// ---------------------------------------------------------------------------
// Monolayer prototypes (periodic in a and b only)
// ---------------------------------------------------------------------------

/**
 * Default empty gap (Å) between a monolayer and its periodic image along c.
 * c is not a physical period for a 2D crystal; the gap only has to be wide
 * enough that plane-wave codes see no interlayer coupling. 18 Å comfortably
 * exceeds the 15 Å usually recommended, and keeps c near 20 Å for MoS2.
 */
export const DEFAULT_VACUUM = 18;

/** One site of a layer: in-plane fractional (fa, fb) and height dz in Å about any reference plane. */
type LayerSite = readonly [species: string, fa: number, fb: number, dz: number];

/**
 * Builds a slab with pbc [true, true, false] from in-plane lattice vectors
 * (given by |a|, |b|, gamma) and atom heights in Å. c is perpendicular to
 * the layer, its length is the layer thickness plus `vacuum`, and the layer
 * is centred on z = 1/2 so that the vacuum is split evenly on both sides and
 * nothing straddles the cell boundary.
 */
function slab(a: number, b: number, gamma: number, sites: readonly LayerSite[], vacuum: number): Structure {
  if (!(vacuum > 0)) throw new Error(`vacuum must be positive, got ${vacuum}`);
  const heights = sites.map((s) => s[3]);
  const zMin = Math.min(...heights);
  const zMax = Math.max(...heights);
  const c = zMax - zMin + vacuum;
  const mid = (zMax + zMin) / 2;
  const lattice = Lattice.fromParameters(a, b, c, 90, 90, gamma);
  // Group by species while keeping the order within each species as given.
  const order = [...new Set(sites.map((s) => s[0]))];
  const sublattices: Sublattice[] = order.map((el) => [el, sites.filter((s) => s[0] === el).map((s) => [s[1], s[2], 0.5 + (s[3] - mid) / c] as Vec3)]);
  return assemble(lattice, sublattices, [true, true, false]);
}

/**
 * Planar honeycomb (graphene, h-BN): A at (1/3, 2/3), B at (2/3, 1/3) of a
 * hexagonal cell, both in one plane. The A–B bond length is a/√3.
 */
export function honeycomb(a: number, A: string, B: string, vacuum = DEFAULT_VACUUM): Structure {
  return slab(
    a,
    a,
    120,
    [
      [A, 1 / 3, 2 / 3, 0],
      [B, 2 / 3, 1 / 3, 0],
    ],
    vacuum,
  );
}

/**
 * One 2H (trigonal prismatic, point group D3h) MX2 layer: M at (1/3, 2/3) in
 * the mid-plane, the two X directly above one another at (2/3, 1/3), ±xx/2
 * out of plane. `xx` is the vertical X–X separation within the layer (the
 * layer "thickness" measured between chalcogen nuclei). Same in-plane
 * registry as the lower layer of h2Bulk, so a monolayer cut from the bulk
 * and one built here coincide.
 */
export function h2Monolayer(a: number, xx: number, M: string, X: string, vacuum = DEFAULT_VACUUM): Structure {
  return slab(
    a,
    a,
    120,
    [
      [M, 1 / 3, 2 / 3, 0],
      [X, 2 / 3, 1 / 3, -xx / 2],
      [X, 2 / 3, 1 / 3, xx / 2],
    ],
    vacuum,
  );
}

/**
 * One X–M–M–X quadruple layer of the III–VI monochalcogenides (GaS, GaSe,
 * InSe; layer symmetry D3h as in β/ε-GaSe): an M–M dimer along c at
 * (1/3, 2/3) and one X above/below it at (2/3, 1/3), each X bonded to three M.
 *
 * Built from the bond lengths, which is how Kuhn et al. and Rigoult et al.
 * tabulate these layers: the M–M bond is vertical, and the vertical M–X
 * offset follows from dMX² = a²/3 + h² because the in-plane M–X distance
 * between (1/3, 2/3) and (2/3, 1/3) is a/√3.
 */
export function monochalcogenideLayer(a: number, dMM: number, dMX: number, M: string, X: string, vacuum = DEFAULT_VACUUM): Structure {
  const h2 = dMX * dMX - (a * a) / 3;
  if (!(h2 > 0)) throw new Error(`M–X bond ${dMX} Å is shorter than the in-plane distance a/√3 = ${(a / Math.sqrt(3)).toFixed(3)} Å`);
  const h = Math.sqrt(h2);
  return slab(
    a,
    a,
    120,
    [
      [M, 1 / 3, 2 / 3, -dMM / 2],
      [M, 1 / 3, 2 / 3, dMM / 2],
      [X, 2 / 3, 1 / 3, -dMM / 2 - h],
      [X, 2 / 3, 1 / 3, dMM / 2 + h],
    ],
    vacuum,
  );
}

/**
 * One puckered layer of black phosphorus (A17, Cmce, No. 64; a, b, c in the
 * Brown & Rundqvist setting where the layers are stacked along b). The 8f
 * site (0, y, z) generates eight atoms in the C-centred cell; the four with
 * fractional y near 0 form one layer:
 *   (0, y, z), (0, -y, -z), (1/2, y, 1/2 - z), (1/2, -y, 1/2 + z).
 * The slab keeps a (zigzag direction) as its first axis and takes bulk c
 * (armchair direction) as its second, with the bulk b direction becoming the
 * out-of-plane height. That axis swap is a mirror, harmless here because the
 * layer is centrosymmetric. Rectangular 4-atom cell.
 */
export function puckeredLayer(a: number, b: number, c: number, y: number, z: number, el: string, vacuum = DEFAULT_VACUUM): Structure {
  const dz = y * b; // half the pucker height, Å
  return slab(
    a,
    c,
    90,
    [
      [el, 0, z, dz],
      [el, 0, -z, -dz],
      [el, 0.5, 0.5 - z, dz],
      [el, 0.5, 0.5 + z, -dz],
    ],
    vacuum,
  );
}
