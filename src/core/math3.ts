/**
 * Minimal 3-vector and 3x3-matrix algebra on plain arrays.
 *
 * Plain tuples (not classes) so that structures serialise to JSON and
 * IndexedDB without conversion. Matrices are row-major: m[i][j] is row i,
 * column j. Lattice matrices store the lattice vectors a, b, c as rows, so a
 * fractional row vector f maps to Cartesian as r = f · M.
 */
export type Vec3 = [number, number, number];
export type Mat3 = [Vec3, Vec3, Vec3];

export const add = (a: Vec3, b: Vec3): Vec3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
export const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
export const scale = (a: Vec3, s: number): Vec3 => [a[0] * s, a[1] * s, a[2] * s];
export const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
export const norm = (a: Vec3): number => Math.sqrt(dot(a, a));
export const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];

export function det(m: Mat3): number {
  return dot(m[0], cross(m[1], m[2]));
}

export function transpose(m: Mat3): Mat3 {
  return [
    [m[0][0], m[1][0], m[2][0]],
    [m[0][1], m[1][1], m[2][1]],
    [m[0][2], m[1][2], m[2][2]],
  ];
}

/** Inverse by the adjugate; throws on a singular matrix. */
export function inverse(m: Mat3): Mat3 {
  const d = det(m);
  if (!Number.isFinite(d) || Math.abs(d) < 1e-300) throw new Error('singular 3x3 matrix');
  // Columns of the inverse are the cross products of the rows divided by det.
  const c0 = cross(m[1], m[2]);
  const c1 = cross(m[2], m[0]);
  const c2 = cross(m[0], m[1]);
  return [
    [c0[0] / d, c1[0] / d, c2[0] / d],
    [c0[1] / d, c1[1] / d, c2[1] / d],
    [c0[2] / d, c1[2] / d, c2[2] / d],
  ];
}

/** Matrix product a · b. */
export function matmul(a: Mat3, b: Mat3): Mat3 {
  const r = (i: number): Vec3 => [
    a[i][0] * b[0][0] + a[i][1] * b[1][0] + a[i][2] * b[2][0],
    a[i][0] * b[0][1] + a[i][1] * b[1][1] + a[i][2] * b[2][1],
    a[i][0] * b[0][2] + a[i][1] * b[1][2] + a[i][2] * b[2][2],
  ];
  return [r(0), r(1), r(2)];
}

/** Row vector times matrix: v · m. */
export function vecmat(v: Vec3, m: Mat3): Vec3 {
  return [v[0] * m[0][0] + v[1] * m[1][0] + v[2] * m[2][0], v[0] * m[0][1] + v[1] * m[1][1] + v[2] * m[2][1], v[0] * m[0][2] + v[1] * m[1][2] + v[2] * m[2][2]];
}

export const identity = (): Mat3 => [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
];

export const DEG = Math.PI / 180;
