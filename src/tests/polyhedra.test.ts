import { describe, expect, it } from 'vitest';
import { findBonds } from '../core/bonds';
import { builtinById } from '../core/library/builtins';
import { cross, dot, sub, type Vec3 } from '../core/math3';
import { convexHull, coordinationPolyhedra } from '../core/polyhedra';
import { buildScene } from '../core/scene';

const polyhedraOf = (id: string) => {
  const s = builtinById(id)!.build();
  return coordinationPolyhedra(buildScene(s, findBonds(s), [1, 1, 1], true));
};

/** Volume of a closed, outward-wound triangle mesh (divergence theorem): positive iff wound outward. */
const volume = (tris: [Vec3, Vec3, Vec3][]) => tris.reduce((v, [a, b, c]) => v + dot(a, cross(b, c)) / 6, 0);

describe('coordination polyhedra', () => {
  it('draws the TiO6 octahedron of SrTiO3: 6 corners, 8 faces, volume (4/3) d³ with d = a/2', () => {
    const p = polyhedraOf('srtio3');
    expect(p.map((x) => x.element)).toEqual(['Ti']); // Sr's 12-corner shell is left out (MAX_CORNERS)
    expect(p[0].corners).toHaveLength(6);
    expect(p[0].faces).toBe(8);
    const d = builtinById('srtio3')!.build().lattice.abc[0] / 2;
    expect(volume(p[0].triangles)).toBeCloseTo((4 / 3) * d ** 3, 6);
  });

  it('draws the CsCl8 cube with 6 square faces, each drawn once (12 triangles)', () => {
    const p = polyhedraOf('cscl');
    expect(p).toHaveLength(1);
    expect(p[0].corners).toHaveLength(8);
    expect(p[0].faces).toBe(6);
    expect(p[0].triangles).toHaveLength(12);
    const a = builtinById('cscl')!.build().lattice.abc[0];
    expect(volume(p[0].triangles)).toBeCloseTo(a ** 3, 6);
  });

  it('draws the distorted TiO6 octahedra of rutile, two per cell', () => {
    const p = polyhedraOf('tio2-rutile');
    expect(p).toHaveLength(2);
    p.forEach((x) => {
      expect(x.faces).toBe(8);
      expect(volume(x.triangles)).toBeGreaterThan(0);
    });
  });

  it('draws none where there is no metal centre with four anions (Si, graphene, Cu)', () => {
    expect(polyhedraOf('si')).toEqual([]);
    expect(polyhedraOf('graphene')).toEqual([]);
    expect(polyhedraOf('cu')).toEqual([]);
  });

  it('a hull is closed, outward and skips flat sets', () => {
    const tetra: Vec3[] = [
      [0, 0, 0],
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ];
    const h = convexHull(tetra);
    expect(h.faces).toBe(4);
    expect(volume(h.triangles)).toBeCloseTo(1 / 6, 12);
    // An interior point is not a corner of any face.
    const withInside = convexHull([...tetra, [0.1, 0.1, 0.1]]);
    expect(withInside.faces).toBe(4);
    expect(withInside.triangles.flat().some((p) => p[0] === 0.1)).toBe(false);
    expect(
      convexHull([
        [0, 0, 0],
        [1, 0, 0],
        [0, 1, 0],
        [1, 1, 0],
      ]).faces,
    ).toBe(0);
    // Edges are shared by exactly two triangles (closed surface) for an octahedron.
    const oct = convexHull([
      [1, 0, 0],
      [-1, 0, 0],
      [0, 1, 0],
      [0, -1, 0],
      [0, 0, 1],
      [0, 0, -1],
    ]);
    const edges = new Map<string, number>();
    for (const t of oct.triangles)
      for (let k = 0; k < 3; k++) {
        const key = [t[k], t[(k + 1) % 3]]
          .map((p) => p.join())
          .sort()
          .join('|');
        edges.set(key, (edges.get(key) ?? 0) + 1);
      }
    expect([...edges.values()].every((c) => c === 2)).toBe(true);
    expect(sub([1, 0, 0], [0, 0, 0])).toEqual([1, 0, 0]);
  });
});
