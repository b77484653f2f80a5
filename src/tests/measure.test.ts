import { describe, expect, it } from 'vitest';
import { angleAt, distanceBetween, measure } from '../core/measure';
import { builtinById } from '../core/library/builtins';
import { findBonds } from '../core/bonds';

describe('measuring picked atoms', () => {
  const si = builtinById('si')!.build();
  // A Si atom and two of its bonded neighbours, in the images the bonds reach.
  const bonds = findBonds(si).filter((b) => b.i === 0 || b.j === 0);
  const neighbours = bonds.map((b) => (b.i === 0 ? { site: b.j, cell: b.image } : { site: b.i, cell: b.image.map((x) => -x) as [number, number, number] }));

  it('gives the Si–Si bond, 2.3517 Å (a = 5.431 Å, √3a/4), across the cell boundary too', () => {
    expect(neighbours).toHaveLength(4);
    for (const n of neighbours) {
      // findBonds works on raw coordinates; the view (and measure) on wrapped ones: built-in Si is already wrapped.
      expect(distanceBetween(si, { site: 0, cell: [0, 0, 0] }, n)).toBeCloseTo(2.3517, 3);
    }
  });

  it('gives the tetrahedral angle, 109.47°, between any two bonds', () => {
    for (let i = 0; i < 4; i++) {
      for (let j = i + 1; j < 4; j++) expect(angleAt(si, neighbours[i], { site: 0, cell: [0, 0, 0] }, neighbours[j])).toBeCloseTo(109.4712, 3);
    }
  });

  it('a straight line is 180°, a repeated atom has no angle, and a bad site is refused', () => {
    const cu = builtinById('cu')!.build();
    const a = { site: 0, cell: [0, 0, 0] as [number, number, number] };
    expect(angleAt(cu, { site: 0, cell: [-1, 0, 0] }, a, { site: 0, cell: [1, 0, 0] })).toBeCloseTo(180, 6);
    expect(angleAt(cu, a, a, { site: 1, cell: [0, 0, 0] })).toBeNull();
    expect(() => distanceBetween(cu, a, { site: 9, cell: [0, 0, 0] })).toThrow(/no site 10/);
  });

  it('labels picks by element and site number, and lists consecutive distances', () => {
    const m = measure(si, [neighbours[0], { site: 0, cell: [0, 0, 0] }, neighbours[1]]);
    expect(m.labels[1]).toBe('Si1');
    expect(m.distances).toHaveLength(2);
    m.distances.forEach((d) => expect(d).toBeCloseTo(2.3517, 3));
    expect(m.angle).toBeCloseTo(109.4712, 3);
  });
});
