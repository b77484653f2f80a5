import { describe, expect, it } from 'vitest';
import { applyLatentPrior, checkLatentPrior } from '../core/generate/latent-prior';
import { parseManifest } from '../core/generate/manifest';

const prior = {
  kind: 'test',
  mean: [1, -2],
  cholesky: [
    [2, 0],
    [0.5, 3],
  ],
};

describe('latent prior', () => {
  it('maps standard normals to mean + L·ε, vector by vector', () => {
    const eps = new Float32Array([1, 0, 0, 1, -1, 2]);
    expect(Array.from(applyLatentPrior(prior, eps, 3))).toEqual([3, -1.5, 1, 1, -1, 3.5]);
  });

  it('leaves N(0, I) draws alone when the manifest has no prior', () => {
    const eps = new Float32Array([0.3, -0.7]);
    expect(applyLatentPrior(undefined, eps, 1)).toBe(eps);
  });

  it('refuses a prior of the wrong size, in the manifest check', () => {
    expect(() => checkLatentPrior(prior, 3)).toThrow(/mean must be 3 numbers/);
    expect(() => checkLatentPrior({ ...prior, cholesky: [[1, 0]] }, 2)).toThrow(/cholesky must be 2×2/);
    expect(() => checkLatentPrior({ ...prior, mean: [1, Number.NaN] }, 2)).toThrow(/mean/);
    const manifest = {
      format: 'latticelab-cdvae/1',
      vocab: [6],
      sigmas: [1],
      type_sigmas: [1],
      max_atoms: 4,
      latent: 3,
      cutoff: 5,
      latent_prior: prior,
    };
    expect(() => parseManifest(manifest)).toThrow(/latent_prior.mean must be 3 numbers/);
    expect(() => applyLatentPrior(prior, new Float32Array(3), 2)).toThrow(/expected 2×2/);
  });
});
