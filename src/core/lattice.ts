import { type Mat3, type Vec3, DEG, cross, det, dot, inverse, norm, transpose, vecmat } from './math3';

/**
 * A crystal lattice: three lattice vectors a, b, c stored as the rows of a
 * 3x3 matrix in ångström. Immutable; every derived quantity is computed once.
 */
export class Lattice {
  readonly matrix: Mat3;
  readonly inverseMatrix: Mat3;

  constructor(matrix: Mat3) {
    if (!matrix.every((row) => row.length === 3 && row.every(Number.isFinite))) {
      throw new Error('lattice matrix must be 3x3 finite numbers');
    }
    const v = det(matrix);
    if (!(Math.abs(v) > 1e-8)) throw new Error('lattice vectors are coplanar (cell volume is zero)');
    this.matrix = [[...matrix[0]], [...matrix[1]], [...matrix[2]]] as Mat3;
    this.inverseMatrix = inverse(this.matrix);
  }

  /**
   * From lengths (Å) and angles (degrees), in the standard setting used by
   * CIF, pymatgen and ASE: a along x, b in the xy plane, c completing a
   * right-handed set (International Tables for Crystallography Vol. B,
   * sec. 1.1 conventions).
   */
  static fromParameters(a: number, b: number, c: number, alpha: number, beta: number, gamma: number): Lattice {
    for (const [name, x] of [
      ['a', a],
      ['b', b],
      ['c', c],
    ] as const) {
      if (!(x > 0) || !Number.isFinite(x)) throw new Error(`lattice length ${name} must be positive, got ${x}`);
    }
    for (const [name, x] of [
      ['alpha', alpha],
      ['beta', beta],
      ['gamma', gamma],
    ] as const) {
      if (!(x > 0 && x < 180)) throw new Error(`lattice angle ${name} must be in (0, 180) degrees, got ${x}`);
    }
    const [ca, cb, cg] = [Math.cos(alpha * DEG), Math.cos(beta * DEG), Math.cos(gamma * DEG)];
    // Snap cos(90°) to exactly zero so orthogonal cells stay exactly orthogonal.
    const snap = (x: number) => (Math.abs(x) < 1e-12 ? 0 : x);
    const sg = Math.sin(gamma * DEG);
    const cx = c * snap(cb);
    const cy = (c * (snap(ca) - snap(cb) * snap(cg))) / sg;
    const cz2 = c * c - cx * cx - cy * cy;
    if (!(cz2 > 1e-10)) throw new Error(`lattice angles ${alpha}, ${beta}, ${gamma} do not form a cell`);
    return new Lattice([
      [a, 0, 0],
      [b * snap(cg), b * sg, 0],
      [cx, cy, Math.sqrt(cz2)],
    ]);
  }

  static cubic(a: number): Lattice {
    return Lattice.fromParameters(a, a, a, 90, 90, 90);
  }

  static hexagonal(a: number, c: number): Lattice {
    return Lattice.fromParameters(a, a, c, 90, 90, 120);
  }

  /** Lengths |a|, |b|, |c| in Å. */
  get abc(): Vec3 {
    return [norm(this.matrix[0]), norm(this.matrix[1]), norm(this.matrix[2])];
  }

  /** Angles alpha (b,c), beta (a,c), gamma (a,b) in degrees. */
  get angles(): Vec3 {
    const [a, b, c] = this.matrix;
    const ang = (u: Vec3, v: Vec3) => Math.acos(Math.max(-1, Math.min(1, dot(u, v) / (norm(u) * norm(v))))) / DEG;
    return [ang(b, c), ang(a, c), ang(a, b)];
  }

  /** Cell volume in Å^3 (always positive; left-handed cells are allowed). */
  get volume(): number {
    return Math.abs(det(this.matrix));
  }

  /**
   * Reciprocal lattice with the crystallographer's convention a*·a = 1
   * (no 2π); rows are a*, b*, c*. Multiply by 2π for the physicist's one.
   */
  get reciprocal(): Lattice {
    return new Lattice(transpose(this.inverseMatrix));
  }

  /**
   * Distances between opposite faces of the cell (Å): 1/|a*| etc. These
   * bound how many periodic images a sphere of radius r can reach.
   */
  get heights(): Vec3 {
    const [a, b, c] = this.matrix;
    const v = this.volume;
    return [v / norm(cross(b, c)), v / norm(cross(c, a)), v / norm(cross(a, b))];
  }

  fracToCart(f: Vec3): Vec3 {
    return vecmat(f, this.matrix);
  }

  cartToFrac(r: Vec3): Vec3 {
    return vecmat(r, this.inverseMatrix);
  }

  /** Parameters as a, b, c, alpha, beta, gamma for display and CIF output. */
  get parameters(): [number, number, number, number, number, number] {
    return [...this.abc, ...this.angles] as [number, number, number, number, number, number];
  }
}
