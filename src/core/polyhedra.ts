/**
 * Coordination polyhedra, as crystallographers draw them (TiO6 octahedra in
 * SrTiO3 and rutile, CsCl8 cubes): for each metal atom of the displayed
 * block with four to eight bonded non-metal neighbours, the convex hull of
 * those neighbours, as triangles. Built on the scene (core/scene.ts), so a
 * polyhedron reaching across the cell boundary uses the boundary images the
 * view draws. Shells of 4 to 8 corners only (see MAX_CORNERS). DOM-free;
 * the viewer turns the triangles into a 3Dmol mesh.
 */
import { NON_METALS } from './bonds';
import { cross, dot, norm, scale, sub, type Vec3 } from './math3';
import type { Scene } from './scene';

export interface Polyhedron {
  /** Index of the central atom in scene.atoms. */
  center: number;
  element: string;
  /** Scene indices of the corners. */
  corners: number[];
  /** Triangles as corner positions, outward-wound. */
  triangles: [Vec3, Vec3, Vec3][];
  /** Number of faces (a square face of a cube counts once). */
  faces: number;
}

/** Fewer bonded anions than this make a triangle or a line, not a polyhedron. */
export const MIN_CORNERS = 4;
/**
 * Larger shells (the 12-coordinated Sr of SrTiO3, a cuboctahedron) are left
 * out, as in the usual figures of perovskites: they would hide the
 * octahedra that carry the structure. Tetrahedra, octahedra and cubes stay.
 */
export const MAX_CORNERS = 8;

export function coordinationPolyhedra(scene: Scene): Polyhedron[] {
  const neighbours = scene.atoms.map(() => [] as number[]);
  for (const [i, j] of scene.bonds) {
    neighbours[i].push(j);
    neighbours[j].push(i);
  }
  const out: Polyhedron[] = [];
  scene.atoms.forEach((atom, i) => {
    if (atom.ghost || NON_METALS.has(atom.element)) return;
    const corners = [...new Set(neighbours[i])].filter((j) => NON_METALS.has(scene.atoms[j].element));
    if (corners.length < MIN_CORNERS || corners.length > MAX_CORNERS) return;
    const hull = convexHull(corners.map((j) => scene.atoms[j].position));
    if (hull.triangles.length) out.push({ center: i, element: atom.element, corners, triangles: hull.triangles, faces: hull.faces });
  });
  return out;
}

/**
 * Convex hull of a few points (a coordination shell: 4–12), by testing every
 * plane through three of them: O(n⁴), which for 12 points is 20,000 steps
 * and simpler to trust than an incremental hull. Coplanar corners (a cube's
 * square faces) are gathered into one face, ordered around its centre and
 * fanned into triangles, so no face is drawn twice. Flat sets give nothing.
 */
export function convexHull(points: readonly Vec3[]): { triangles: [Vec3, Vec3, Vec3][]; faces: number } {
  const n = points.length;
  const size = Math.max(1e-9, ...points.map((p) => norm(sub(p, points[0]))));
  const eps = 1e-6 * size;
  const seen = new Set<string>();
  const triangles: [Vec3, Vec3, Vec3][] = [];
  let faces = 0;
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      for (let c = b + 1; c < n; c++) {
        let normal = cross(sub(points[b], points[a]), sub(points[c], points[a]));
        const len = norm(normal);
        if (len < eps * size) continue; // collinear
        normal = scale(normal, 1 / len);
        const offset = dot(normal, points[a]);
        let above = 0;
        let below = 0;
        for (const p of points) {
          const h = dot(normal, p) - offset;
          if (h > eps) above++;
          else if (h < -eps) below++;
        }
        if (above && below) continue; // not a face
        if (!above && !below) return { triangles: [], faces: 0 }; // all coplanar: no solid
        if (above) normal = scale(normal, -1); // outward: every other point is behind the face
        const onFace = points.map((p, k) => k).filter((k) => Math.abs(dot(normal, points[k]) - dot(normal, points[a])) <= eps);
        const key = onFace.join(',');
        if (seen.has(key)) continue;
        seen.add(key);
        faces++;
        // Order the face's corners around its centre, counter-clockwise seen from outside.
        const centre = scale(
          onFace.reduce((s, k) => [s[0] + points[k][0], s[1] + points[k][1], s[2] + points[k][2]] as Vec3, [0, 0, 0] as Vec3),
          1 / onFace.length,
        );
        const u = sub(points[onFace[0]], centre);
        const w = cross(normal, u);
        const ordered = [...onFace].sort((p, q) => {
          const dp = sub(points[p], centre);
          const dq = sub(points[q], centre);
          return Math.atan2(dot(dp, w), dot(dp, u)) - Math.atan2(dot(dq, w), dot(dq, u));
        });
        for (let k = 1; k + 1 < ordered.length; k++) triangles.push([points[ordered[0]], points[ordered[k]], points[ordered[k + 1]]]);
      }
    }
  }
  return { triangles, faces };
}
