/**
 * The latent prior a CDVAE samples from. The paper's is N(0, I); a manifest
 * may instead carry a Gaussian fitted to the training crystals' aggregate
 * posterior (`latent_prior`, written by models/cdvae/export.py from
 * models/cdvae/latent_prior.py, whose docstring says why). Either way the
 * sampler draws standard normals from its seeded stream and maps them here,
 * z = mean + L·ε, so a seed still names one run.
 */

export interface LatentPrior {
  kind: string;
  /** latent numbers */
  mean: number[];
  /** latent × latent, lower triangular, row by row */
  cholesky: number[][];
}

/** Throws with a one-line reason when the prior does not fit a latent of this size. */
export function checkLatentPrior(p: unknown, latent: number): LatentPrior {
  const q = p as Partial<LatentPrior> | null;
  const finiteRow = (r: unknown): r is number[] => Array.isArray(r) && r.length === latent && r.every(Number.isFinite);
  if (!q || typeof q !== 'object' || !finiteRow(q.mean)) {
    throw new Error(`model manifest: latent_prior.mean must be ${latent} numbers`);
  }
  if (!Array.isArray(q.cholesky) || q.cholesky.length !== latent || !q.cholesky.every(finiteRow)) {
    throw new Error(`model manifest: latent_prior.cholesky must be ${latent}×${latent} numbers`);
  }
  return q as LatentPrior;
}

/** n standard-normal vectors (row-major n × latent) mapped to the prior; undefined: N(0, I), unchanged. */
export function applyLatentPrior(prior: LatentPrior | undefined, eps: Float32Array, n: number): Float32Array {
  if (!prior) return eps;
  const L = prior.mean.length;
  if (eps.length !== n * L) throw new Error(`latent prior: expected ${n}×${L} numbers, got ${eps.length}`);
  const out = new Float32Array(n * L);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < L; i++) {
      const row = prior.cholesky[i];
      let s = prior.mean[i];
      for (let k = 0; k <= i; k++) s += row[k] * eps[b * L + k];
      out[b * L + i] = s;
    }
  }
  return out;
}
