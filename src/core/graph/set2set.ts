/**
 * Set2Set readout (Vinyals, Bengio & Kudlur 2016), as MEGNet uses it to turn
 * a variable number of node (or edge) vectors into one vector per graph.
 * CPU reference, written literally:
 *
 *   q*_0 = 0 [B, 2F], h_0 = c_0 = 0 [B, F]
 *   for t = 1..T:
 *     (h_t, c_t) = LSTM(q*_{t-1}, (h_{t-1}, c_{t-1}))      q_t = h_t
 *     e_i = <x_i, q_t[g(i)]>                                 per node i of graph g(i)
 *     a_i = softmax of e over the nodes of graph g(i)
 *     r_g = sum_{i in g} a_i x_i
 *     q*_t = [q_t, r_g]
 *   output q*_T [B, 2F]
 *
 * The LSTM is PyTorch's (as in matgl / DGL's Set2Set): gates in the order
 * i, f, g, o; c' = sig(f) c + sig(i) tanh(g); h' = sig(o) tanh(c'). The
 * original Keras MEGNet differs in details (hard sigmoid gates); models
 * converted from matgl match this one. MEGNet first maps x through a dense
 * layer; that is an ordinary `dense` before calling this.
 */
import { sigmoid } from './dense';
import { concatCols } from './rows';
import { checkOffsets, segmentIds, segmentReduce, segmentSoftmax } from './segment';
import { type Matrix, matrix, transpose } from './types';

/** One LSTM layer in this project's W [in, out] convention: gates = x W_ih + h W_hh + b. */
export interface LstmWeights {
  /** [In, 4H] (for Set2Set In = 2H). */
  wIh: Matrix;
  /** [H, 4H]. */
  wHh: Matrix;
  /** [4H]: PyTorch's bias_ih + bias_hh. */
  b: Float32Array;
}

/** From PyTorch's nn.LSTM tensors: weight_ih_l0 [4H, In], weight_hh_l0 [4H, H], bias_ih_l0, bias_hh_l0 [4H]. */
export function lstmFromTorch(weightIh: Matrix, weightHh: Matrix, biasIh: Float32Array, biasHh: Float32Array): LstmWeights {
  const b = new Float32Array(biasIh.length);
  for (let i = 0; i < b.length; i++) b[i] = biasIh[i] + biasHh[i];
  return { wIh: transpose(weightIh), wHh: transpose(weightHh), b };
}

export function lstmHidden(w: LstmWeights): number {
  const h = w.wHh.rows;
  if (w.wHh.cols !== 4 * h || w.wIh.cols !== 4 * h || w.b.length !== 4 * h) {
    throw new RangeError(
      `LSTM weights: W_ih [${w.wIh.rows}, ${w.wIh.cols}], W_hh [${w.wHh.rows}, ${w.wHh.cols}], b [${w.b.length}] are not [In, 4H], [H, 4H], [4H]`,
    );
  }
  return h;
}

/** One LSTM step for a batch of rows. */
export function lstmCell(x: Matrix, h: Matrix, c: Matrix, w: LstmWeights): { h: Matrix; c: Matrix } {
  const H = lstmHidden(w);
  if (x.cols !== w.wIh.rows || h.cols !== H || c.cols !== H || h.rows !== x.rows || c.rows !== x.rows) {
    throw new RangeError('lstmCell: input shapes do not match the weights');
  }
  const hOut = matrix(x.rows, H);
  const cOut = matrix(x.rows, H);
  const z = new Float64Array(4 * H);
  for (let r = 0; r < x.rows; r++) {
    for (let j = 0; j < 4 * H; j++) z[j] = w.b[j];
    for (let i = 0; i < x.cols; i++) {
      const v = x.data[r * x.cols + i];
      for (let j = 0; j < 4 * H; j++) z[j] += v * w.wIh.data[i * 4 * H + j];
    }
    for (let i = 0; i < H; i++) {
      const v = h.data[r * H + i];
      for (let j = 0; j < 4 * H; j++) z[j] += v * w.wHh.data[i * 4 * H + j];
    }
    for (let j = 0; j < H; j++) {
      const cNew = sigmoid(z[H + j]) * c.data[r * H + j] + sigmoid(z[j]) * Math.tanh(z[2 * H + j]);
      cOut.data[r * H + j] = cNew;
      hOut.data[r * H + j] = sigmoid(z[3 * H + j]) * Math.tanh(cNew);
    }
  }
  return { h: hOut, c: cOut };
}

/**
 * Batched Set2Set: x [N, F] rows of all graphs, `offsets` the CSR segments of
 * rows per graph (B + 1 values). Returns q* [B, 2F]. A graph with no rows
 * gets r = 0 (its q still evolves through the LSTM).
 */
export function set2set(x: Matrix, offsets: Int32Array, w: LstmWeights, steps: number): Matrix {
  checkOffsets(offsets, x.rows);
  const F = lstmHidden(w);
  if (x.cols !== F || w.wIh.rows !== 2 * F) throw new RangeError(`set2set: x has ${x.cols} features, weights are for H = ${F} with input ${w.wIh.rows}`);
  const B = offsets.length - 1;
  const graphOf = segmentIds(offsets);
  let h = matrix(B, F);
  let c = matrix(B, F);
  let qStar = matrix(B, 2 * F);
  for (let t = 0; t < steps; t++) {
    ({ h, c } = lstmCell(qStar, h, c, w));
    const e = matrix(x.rows, 1);
    for (let i = 0; i < x.rows; i++) {
      const g = graphOf[i];
      let dot = 0;
      for (let f = 0; f < F; f++) dot += x.data[i * F + f] * h.data[g * F + f];
      e.data[i] = dot;
    }
    const a = segmentSoftmax(e, offsets);
    const r = segmentReduce(x, offsets, 'sum', a.data);
    qStar = concatCols([h, r]);
  }
  return qStar;
}
