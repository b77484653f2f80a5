import { describe, expect, it } from 'vitest';
import { sampleCrystals } from '../core/generate/langevin';
import type { CdvaeManifest } from '../core/generate/manifest';
import type { ScoreInput, ScoreModel } from '../core/generate/score-model';

// A stand-in CDVAE: 4 carbon atoms in a 3 Å cube (heads), and a score that
// pulls every atom a little, except that atom 0's turns NaN from the 5th
// evaluation on, as a diverged network's would.
function standIn(nanAtom: number | null): ScoreModel {
  const manifest = {
    format: 'latticelab-cdvae/1',
    dataset: 'stand-in',
    reference: 'test',
    vocab: [6],
    max_atoms: 4,
    latent: 2,
    cutoff: 4,
    sigmas: [1, 0.5, 0.1],
    type_sigmas: [1, 0.5, 0.1],
    defaults: { steps_per_level: 3, step_lr: 1e-2 },
    property: null,
    files: { heads: '', score: '' },
    training: { epochs: 0, hours: 0, best_val_loss: 0, sizes: {}, split_rule: '', date: '' },
  } as CdvaeManifest;
  let calls = 0;
  return {
    manifest,
    provider: 'stand-in',
    heads: async (_z, batch) => ({
      numAtomsLogits: Float32Array.from({ length: batch * 5 }, (_, i) => (i % 5 === 4 ? 1 : 0)),
      lattice: Float32Array.from({ length: batch * 6 }, (_, i) => (i % 6 < 3 ? 3 / Math.cbrt(4) : 90)),
      composition: new Float32Array(batch).fill(1),
      property: new Float32Array(batch),
    }),
    score: async (x: ScoreInput) => {
      calls++;
      const n = x.types.length;
      const score = new Float32Array(3 * n).fill(0.3);
      if (nanAtom !== null && calls >= 5) score.fill(Number.NaN, 3 * nanAtom, 3 * nanAtom + 3);
      return { score, typeLogits: new Float32Array(n).fill(1) };
    },
  };
}

describe('Langevin sampling with a score network that diverges', () => {
  it('keeps every coordinate a number, says so on the crystal, and leaves the other atoms as without it', async () => {
    const clean = await sampleCrystals(standIn(null), { n: 1, seed: 4 });
    const bad = await sampleCrystals(standIn(0), { n: 1, seed: 4 });
    const [c] = bad.crystals;
    expect(c.frac.flat().every(Number.isFinite)).toBe(true);
    expect(c.notes.join(' ')).toMatch(/non-number/);
    expect(clean.crystals[0].notes.join(' ')).not.toMatch(/non-number/);
    // atom 0 stopped where it was at the 4th step; the others moved exactly as in the clean run
    expect(c.frac[0]).not.toEqual(clean.crystals[0].frac[0]);
    expect(c.frac.slice(1)).toEqual(clean.crystals[0].frac.slice(1));
  });
});
