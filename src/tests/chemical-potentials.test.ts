import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { followerOffset, formationShift, hostRange, potentialShifts, removedAtoms } from '../core/defects/chemical-potentials';
import { DefectEditor } from '../core/defects/editor';

const manifest = JSON.parse(readFileSync(new URL('../../models/defects/export/megnet-sparse.json', import.meta.url), 'utf8')) as {
  referencePotentials: { mu: Record<string, number> };
};
const ref = manifest.referencePotentials.mu;

describe('formation energies at other chemical potentials (issue 28)', () => {
  const range = hostRange('MoS2')!;

  it('MoS2 ranges from S-poor (dH/2) to S-rich (0), from the GPAW enthalpy, against the labels’ own elemental references', () => {
    expect(range.variable).toBe('S');
    expect(range.follower).toBe('Mo');
    expect(range.formationEnthalpy).toBeLessThan(-1); // MoS2 is strongly bound (PBE: about -2.5 to -3 eV per formula unit)
    expect(range.min).toBeCloseTo(range.formationEnthalpy / 2, 12);
    expect(range.max).toBe(0);
    // The enthalpy file and the model's manifest use the same elemental references.
    expect(range.elemental.S).toBeCloseTo(ref.S, 10);
    expect(range.elemental.Mo).toBeCloseTo(ref.Mo, 10);
  });

  it('an S vacancy moves by exactly the change of mu_S; an Mo vacancy by the metal’s, which follows the host', () => {
    const p = new DefectEditor({ host: 'MoS2', size: 5, edits: [] }).pristine();
    const s = p.species.indexOf('S');
    const mo = p.species.indexOf('Mo');
    const vs = removedAtoms(p, [[s, 0]]);
    expect(vs).toEqual({ S: 1 });
    const at = (d: number, removed: Record<string, number>) => formationShift(removed, potentialShifts(range, d, ref));
    expect(at(-0.5, vs) - at(0, vs)).toBeCloseTo(-0.5, 12);
    // At the S-rich end the S vacancy is at the labels' reference; the Mo vacancy is not (mu_Mo = mu_Mo^0 + dH there).
    expect(at(0, vs)).toBeCloseTo(0, 12);
    const vmo = removedAtoms(p, [[mo, 0]]);
    expect(at(0, vmo)).toBeCloseTo(range.formationEnthalpy, 12);
    expect(at(-0.5, vmo) - at(0, vmo)).toBeCloseTo(1, 12);
    // W on Mo: Mo removed, W added at its elemental reference.
    expect(removedAtoms(p, [[mo, 74]])).toEqual({ Mo: 1, W: -1 });
    expect(at(-0.5, removedAtoms(p, [[mo, 74]]))).toBeCloseTo(at(-0.5, vmo), 12);
  });

  it('1:1 hosts: at the anion-rich end the cation is exactly the labels’ rich-limit reference (the same GPAW energies)', () => {
    for (const [host, anion, cation] of [
      ['hBN', 'N', 'B'],
      ['GaSe', 'Se', 'Ga'],
      ['InSe', 'Se', 'In'],
    ] as const) {
      const r = hostRange(host)!;
      expect(r.variable).toBe(anion);
      expect(r.perFormula).toEqual({ variable: 1, follower: 1 });
      expect(r.min).toBeCloseTo(r.formationEnthalpy, 12);
      // The panel's readout: one cation per anion, so the cation moves by dH - delta (MoS2's metal by dH - 2 delta).
      expect(followerOffset(r, -0.5)).toBeCloseTo(r.formationEnthalpy + 0.5, 12);
      const at = potentialShifts(r, 0, ref);
      expect(at[anion]).toBeCloseTo(0, 9);
      expect(at[cation]).toBeCloseTo(0, 6);
    }
  });

  it('black phosphorus has no range; WSe2 moves Se', () => {
    expect(hostRange('BP')).toBeNull();
    expect(hostRange('WSe2')?.variable).toBe('Se');
  });
});
