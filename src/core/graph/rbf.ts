/**
 * Gaussian radial basis expansion of distances, CPU reference:
 * e_k(d) = exp(-((d - mu_k) / sigma)^2), with centres mu_k evenly spaced
 * from rMin to rMax (inclusive). MEGNet (Chen et al. 2019) expands bond
 * lengths on [0, r_c] with sigma equal to the centre spacing
 * (`megnetBasis`). Note that matgl writes exp(-(d - mu)^2 / (2 w^2)); that is
 * this formula with sigma = w * sqrt(2).
 */
import { type Matrix, matrix } from './types';

export interface GaussianBasis {
  /** First centre (Å). */
  rMin: number;
  /** Last centre (Å). */
  rMax: number;
  /** Number of centres K (>= 1). */
  count: number;
  /** Width sigma (Å, > 0). */
  width: number;
}

/** K evenly spaced centres; a single centre sits at rMin. */
export function gaussianCenters(basis: GaussianBasis): Float64Array {
  const { rMin, rMax, count } = basis;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`gaussian basis: count must be a positive integer, got ${count}`);
  const mu = new Float64Array(count);
  const step = count > 1 ? (rMax - rMin) / (count - 1) : 0;
  for (let k = 0; k < count; k++) mu[k] = rMin + k * step;
  return mu;
}

/** The MEGNet basis: `count` centres on [0, cutoff], width = spacing. */
export function megnetBasis(cutoff: number, count: number): GaussianBasis {
  const width = count > 1 ? cutoff / (count - 1) : cutoff;
  return { rMin: 0, rMax: cutoff, count, width };
}

/** [E] distances -> [E, K] expansion. */
export function gaussianExpand(d: Float32Array, basis: GaussianBasis): Matrix {
  if (!(basis.width > 0)) throw new RangeError(`gaussian basis: width must be > 0, got ${basis.width}`);
  const mu = gaussianCenters(basis);
  const k = mu.length;
  const out = matrix(d.length, k);
  for (let e = 0; e < d.length; e++) {
    for (let j = 0; j < k; j++) {
      const z = (d[e] - mu[j]) / basis.width;
      out.data[e * k + j] = Math.exp(-z * z);
    }
  }
  return out;
}
