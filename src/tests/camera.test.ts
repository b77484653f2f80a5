import { describe, expect, it } from 'vitest';
import { orthographicZoom, parseUvw, quaternionOf, rotate, viewAlongQuaternion, viewRotation } from '../core/camera';
import { Lattice } from '../core/lattice';
import { det, dot, norm, type Vec3 } from '../core/math3';
import { rng } from './random';

const close = (a: Vec3, b: Vec3, tol = 1e-9) => a.forEach((x, k) => expect(x).toBeCloseTo(b[k], -Math.log10(tol)));

describe('view along a direction', () => {
  it('turns the direction into the screen and keeps up upright, for random directions', () => {
    const r = rng(5);
    for (let t = 0; t < 200; t++) {
      const d: Vec3 = [r() - 0.5, r() - 0.5, r() - 0.5];
      const up: Vec3 = [r() - 0.5, r() - 0.5, r() - 0.5];
      const R = viewRotation(d, up);
      expect(det(R)).toBeCloseTo(1, 10); // a rotation, not a mirror
      const q = quaternionOf(R);
      close(rotate(q, d), [0, 0, -norm(d)]);
      const u = rotate(q, up);
      expect(u[0]).toBeCloseTo(0, 9); // up stays in the vertical plane ...
      expect(u[1]).toBeGreaterThan(0); // ... and points up
    }
  });

  it('handles an up vector parallel to the view and the identity (no rotation) case', () => {
    close(rotate(quaternionOf(viewRotation([0, 0, -1], [0, 1, 0])), [1, 2, 3]), [1, 2, 3]);
    const q = quaternionOf(viewRotation([0, 0, 1], [0, 0, 5]));
    close(rotate(q, [0, 0, 1]), [0, 0, -1]);
    // Rotations by 180° (trace −1) take the other branches of Shepperd's method.
    close(rotate(quaternionOf(viewRotation([0, 0, 1], [0, 1, 0])), [0, 0, 1]), [0, 0, -1]);
    close(rotate(quaternionOf(viewRotation([0, 0, -1], [0, -1, 0])), [0, -1, 0]), [0, 1, 0]);
  });

  it('views a triclinic crystal along a, b, c and [111] with the right lattice vector up', () => {
    const L = Lattice.fromParameters(4, 5, 6, 70, 80, 100).matrix;
    const [a, b, c] = L;
    const qa = viewAlongQuaternion(L, [1, 0, 0]);
    close(rotate(qa, a), [0, 0, -norm(a)]);
    expect(rotate(qa, c)[1]).toBeGreaterThan(0);
    expect(rotate(qa, c)[0]).toBeCloseTo(0, 9);
    const qc = viewAlongQuaternion(L, [0, 0, 1]);
    close(rotate(qc, c), [0, 0, -norm(c)]);
    expect(rotate(qc, b)[0]).toBeCloseTo(0, 9);
    const d: Vec3 = [0, 1, 2].map((k) => a[k] + b[k] + c[k]) as Vec3;
    const q111 = viewAlongQuaternion(L, [1, 1, 1]);
    const sd = rotate(q111, d);
    expect(dot(sd, [0, 0, -1]) / norm(sd)).toBeCloseTo(1, 9);
  });

  it('reads directions as people write them, and refuses the rest', () => {
    expect(parseUvw('1 1 0')).toEqual([1, 1, 0]);
    expect(parseUvw('[110]')).toEqual([1, 1, 0]);
    expect(parseUvw('[1-10]')).toEqual([1, -1, 0]);
    expect(parseUvw('1, -1, 2')).toEqual([1, -1, 2]);
    expect(parseUvw('[12 0 1]')).toEqual([12, 0, 1]);
    expect(parseUvw('0 0 0')).toBeNull();
    expect(parseUvw('1 1')).toBeNull();
    expect(parseUvw('a b c')).toBeNull();
    expect(parseUvw('1.5 0 0')).toBeNull();
  });
});

describe('orthographic zoom', () => {
  it('makes the orthographic half-height equal the perspective one at the same distance', () => {
    const t = (deg: number) => Math.tan((Math.PI / 180) * deg);
    for (const aspect of [0.5, 1, 4 / 3, 16 / 9]) {
      const d = 120;
      const k = orthographicZoom(aspect, 20);
      // Perspective half-height at d; 3Dmol's orthographic half-height at d / k (what zoom(k) leaves).
      expect(((d / k) * t(20)) / aspect).toBeCloseTo(d * t(10), 10);
    }
  });

  it('is about 2 / aspect for the 20° view (why the fit looked 1.4–2x too small)', () => {
    expect(orthographicZoom(1)).toBeCloseTo(2.064, 3);
    expect(orthographicZoom(1.5)).toBeCloseTo(1.376, 3);
  });
});
