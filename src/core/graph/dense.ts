/**
 * Dense (fully connected) layer, CPU reference: Y = act(X W + b) with
 * X [R, F_in], W [F_in, F_out], b [F_out]. Sums run in float64 and are
 * rounded to float32 once, so this is the "exact" side of GPU comparisons.
 */
import { type Activation, type Matrix, matrix } from './types';

/** softplus(x) = ln(1 + e^x), written so that it neither overflows for large x nor loses digits for very negative x. */
export function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/** Logistic sigmoid; only ever exponentiates a non-positive number, so it cannot overflow. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** SiLU (swish): x * sigmoid(x). */
export function silu(x: number): number {
  return x * sigmoid(x);
}

export function relu(x: number): number {
  return x > 0 ? x : 0;
}

export function activate(x: number, act: Activation): number {
  switch (act) {
    case 'none':
      return x;
    case 'softplus':
      return softplus(x);
    case 'silu':
      return silu(x);
    case 'relu':
      return relu(x);
  }
}

export function dense(x: Matrix, w: Matrix, b: Float32Array | null, act: Activation = 'none'): Matrix {
  if (x.cols !== w.rows) throw new RangeError(`dense: X is [${x.rows}, ${x.cols}] but W is [${w.rows}, ${w.cols}]`);
  if (b && b.length !== w.cols) throw new RangeError(`dense: bias has ${b.length} values for ${w.cols} outputs`);
  const { rows } = x;
  const k = x.cols;
  const n = w.cols;
  const y = matrix(rows, n);
  const acc = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    acc.fill(0);
    for (let i = 0; i < k; i++) {
      const xv = x.data[r * k + i];
      if (xv === 0) continue;
      const wRow = i * n;
      for (let c = 0; c < n; c++) acc[c] += xv * w.data[wRow + c];
    }
    for (let c = 0; c < n; c++) y.data[r * n + c] = activate(acc[c] + (b ? b[c] : 0), act);
  }
  return y;
}
