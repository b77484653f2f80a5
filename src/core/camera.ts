/**
 * Camera orientations for "view along [uvw]": the rotation that turns a
 * crystal direction into the viewing direction, as the quaternion 3Dmol's
 * view takes. DOM-free so the geometry is tested in Node.
 *
 * Screen convention (3Dmol, like three.js): x to the right, y up, z toward
 * the viewer; the camera looks down −z. Viewing along d therefore means the
 * rotation R with R·d̂ = (0, 0, −1): d points into the screen. The second
 * direction `up` (projected perpendicular to d) becomes +y, as VESTA and
 * matterviz keep a lattice vector upright.
 */
import { cross, dot, norm, scale, sub, type Mat3, type Vec3 } from './math3';

/** [x, y, z, w], the order 3Dmol's getView()/setView() use. */
export type Quat = [number, number, number, number];

/** The rows of R: where the screen's x, y and z axes point in the crystal's Cartesian frame. */
export function viewRotation(direction: Vec3, up: Vec3): Mat3 {
  const d = norm(direction);
  if (!(d > 1e-9)) throw new Error('cannot view along a zero vector');
  const z = scale(direction, -1 / d);
  // Up, made perpendicular to the view; if it is (nearly) parallel, any perpendicular will do.
  let y = sub(up, scale(z, dot(up, z)));
  if (norm(y) < 1e-6 * Math.max(1, norm(up))) {
    const trial: Vec3 = Math.abs(z[0]) < 0.9 ? [1, 0, 0] : [0, 1, 0];
    y = sub(trial, scale(z, dot(trial, z)));
  }
  y = scale(y, 1 / norm(y));
  const x = cross(y, z);
  return [x, y, z];
}

/** Unit quaternion of a proper rotation matrix (rows), by Shepperd's method (stable for every angle). */
export function quaternionOf(r: Mat3): Quat {
  const [[m00, m01, m02], [m10, m11, m12], [m20, m21, m22]] = r;
  const trace = m00 + m11 + m22;
  let q: Quat;
  if (trace > 0) {
    const s = 2 * Math.sqrt(trace + 1);
    q = [(m21 - m12) / s, (m02 - m20) / s, (m10 - m01) / s, s / 4];
  } else if (m00 > m11 && m00 > m22) {
    const s = 2 * Math.sqrt(1 + m00 - m11 - m22);
    q = [s / 4, (m01 + m10) / s, (m02 + m20) / s, (m21 - m12) / s];
  } else if (m11 > m22) {
    const s = 2 * Math.sqrt(1 + m11 - m00 - m22);
    q = [(m01 + m10) / s, s / 4, (m12 + m21) / s, (m02 - m20) / s];
  } else {
    const s = 2 * Math.sqrt(1 + m22 - m00 - m11);
    q = [(m02 + m20) / s, (m12 + m21) / s, s / 4, (m10 - m01) / s];
  }
  const n = Math.hypot(...q);
  return q.map((c) => c / n) as Quat;
}

/** Rotates v by the unit quaternion q (for tests and for placing overlays). */
export function rotate(q: Quat, v: Vec3): Vec3 {
  const [x, y, z, w] = q;
  const u: Vec3 = [x, y, z];
  const t = scale(cross(u, v), 2);
  const c = cross(u, t);
  return [v[0] + w * t[0] + c[0], v[1] + w * t[1] + c[1], v[2] + w * t[2] + c[2]];
}

/**
 * The quaternion for viewing a crystal along the direction [uvw] (in
 * lattice-vector components), with the next lattice vector kept upright:
 * along a, c is up; along b, c is up; along c (or any other), b is up.
 */
export function viewAlongQuaternion(lattice: Mat3, uvw: Vec3): Quat {
  const [a, b, c] = lattice;
  const d: Vec3 = [0, 1, 2].map((k) => uvw[0] * a[k] + uvw[1] * b[k] + uvw[2] * c[k]) as Vec3;
  const isAxis = (k: number) => uvw.every((x, j) => (j === k ? x !== 0 : x === 0));
  const up = isAxis(0) || isAxis(1) ? c : b;
  return quaternionOf(viewRotation(d, up));
}

/** Parses "1 1 0", "[110]", "1,-1,0" or "1 -1 0" into integers; null when it is not a direction. */
export function parseUvw(text: string): Vec3 | null {
  const t = text
    .trim()
    .replace(/^\[|\]$/g, '')
    .trim();
  let parts = t.split(/[\s,]+/).filter(Boolean);
  // "110" or "1-10": one digit per index, as crystallographers write small indices.
  if (parts.length === 1) parts = t.match(/-?\d/g) ?? [];
  if (parts.length !== 3 || !parts.every((p) => /^-?\d+$/.test(p))) return null;
  const v = parts.map(Number) as Vec3;
  return v.every((x) => x === 0) ? null : v;
}

/**
 * The view's vertical field of view in degrees: 3Dmol's default, set
 * explicitly (CrystalViewer) because the orthographic scale below depends on it.
 */
export const FOV_DEGREES = 20;

/**
 * How much to zoom in when switching 3Dmol from perspective to orthographic
 * so that the crystal keeps its size on screen (and the factor an
 * orthographic fit needs after 3Dmol's perspective-only `zoomTo`).
 *
 * At a distance d from the camera, perspective shows a half-height of
 * d·tan(fov/2); 3Dmol's orthographic frustum is half-width d·tan(fov) and
 * half-height d·tan(fov)/aspect (GLViewer.setSlabAndFog), which is 1.4–2x
 * larger at the usual aspects: a fitted crystal looked that much smaller.
 * `viewer.zoom(k)` divides d by k, so k = tan(fov) / (tan(fov/2)·aspect)
 * makes the two half-heights equal.
 */
export function orthographicZoom(aspect: number, fovDegrees = FOV_DEGREES): number {
  const t = (deg: number) => Math.tan((Math.PI / 180) * deg);
  return t(fovDegrees) / (t(fovDegrees / 2) * aspect);
}
