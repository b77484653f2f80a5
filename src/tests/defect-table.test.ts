import { describe, expect, it } from 'vitest';
import { DefectEditor } from '../core/defects/editor';
import { defectTable } from '../core/defects/defect-table';

describe('the defect table (issue 28)', () => {
  it('names defects as V_S and W_Mo and gives each its nearest other defect by minimum image', () => {
    const ed = new DefectEditor({ host: 'MoS2', size: 5, edits: [] });
    const p = ed.pristine();
    const mo = p.species.indexOf('Mo');
    const s = p.species.indexOf('S');
    // The Mo site nearest to that S, and an S far away across the periodic boundary.
    const near = p.species
      .map((el, i) => (el === 'Mo' ? i : -1))
      .filter((i) => i >= 0)
      .sort((a, b) => p.minimumImage(s, a).distance - p.minimumImage(s, b).distance)[0];
    const rows = defectTable(p, [
      [s, 0],
      [near, 74],
    ]);
    expect(rows.map((r) => r.name)).toEqual(['V_S', 'W_Mo']);
    expect(rows.map((r) => r.kind)).toEqual(['vacancy', 'substitution']);
    // Mo–S bond in MoS2: 2.41 Å (a = 3.16 Å, z(S) = 1.56 Å from the Mo plane).
    expect(rows[0].nearest!.distance).toBeCloseTo(2.41, 1);
    expect(rows[1].nearest).toMatchObject({ name: 'V_S', site: s });
    expect(rows[0].at).toEqual(p.lattice.fracToCart(p.frac[s]));
    expect(mo).toBeGreaterThanOrEqual(0);
  });

  it('a lone defect has no nearest defect; the minimum image crosses the cell boundary', () => {
    const ed = new DefectEditor({ host: 'MoS2', size: 5, edits: [] });
    const p = ed.pristine();
    expect(defectTable(p, [[0, 0]])[0].nearest).toBeNull();
    // Two Mo sites one lattice vector apart through the boundary: 3.16 Å, not 4 × 3.16.
    const mos = p.species.map((el, i) => (el === 'Mo' ? i : -1)).filter((i) => i >= 0);
    const far = mos.reduce(
      (best, i) =>
        Math.abs(p.frac[i][0] - p.frac[mos[0]][0]) > Math.abs(p.frac[best][0] - p.frac[mos[0]][0]) && Math.abs(p.frac[i][1] - p.frac[mos[0]][1]) < 1e-6
          ? i
          : best,
      mos[0],
    );
    const rows = defectTable(p, [
      [mos[0], 0],
      [far, 0],
    ]);
    expect(rows[0].nearest!.distance).toBeCloseTo(3.16, 2);
  });
});
