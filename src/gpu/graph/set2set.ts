/**
 * Set2Set readout on the GPU (reference and equations: src/core/graph/set2set.ts),
 * batched over graphs through the node segments. Per step, five dispatches:
 *   gates = q* W' + b                      dense            [B, 4F]
 *   c, h  = LSTM(gates, c); q*[:, :F] = h  lstm             [B, F]
 *   e_i   = <x_i, q*[g(i), :F]>            rowdot           [N, 1]
 *   a     = softmax of e per graph         segment_softmax  [N, 1]
 *   q*[:, F:] = sum_i a_i x_i              segment_reduce (weighted sum)
 * q*, c and the scratch tensors live in the run's pool; all steps go into the
 * caller's run, so a whole readout (and the model around it) is one submission.
 *
 * Folding: a one-layer LSTM fed with q* = [q, r] always has q = h (the LSTM's
 * own previous output), so x W_ih + h W_hh = q* W' with
 * W' = [W_ih[:F] + W_hh; W_ih[F:]]. That saves a concatenation and a
 * matmul per step; the CPU reference keeps the two products separate, and
 * the tests check that both agree.
 */
import { type LstmWeights, lstmHidden } from '../../core/graph/set2set';
import { matrix } from '../../core/graph/types';
import { dense, lstmCell, rowDot, type SegmentStrategy, segmentReduce, segmentSoftmax } from './kernels';
import type { GraphRun } from '../runtime/run';
import { type GpuSegments, type GpuTensor, uploadMatrix, upload } from '../runtime/tensor';

export class GpuSet2Set {
  readonly hidden: number;
  private readonly w: GpuTensor;
  private readonly b: GpuTensor;

  constructor(device: GPUDevice, weights: LstmWeights) {
    const F = lstmHidden(weights);
    if (weights.wIh.rows !== 2 * F) throw new RangeError(`GpuSet2Set: W_ih has ${weights.wIh.rows} inputs, Set2Set needs 2F = ${2 * F}`);
    this.hidden = F;
    const folded = matrix(2 * F, 4 * F, weights.wIh.data);
    for (let i = 0; i < F * 4 * F; i++) folded.data[i] += weights.wHh.data[i];
    this.w = uploadMatrix(device, folded, 'set2set W');
    this.b = upload(device, weights.b, 1, 4 * F, 'set2set b');
  }

  /** x [N, F] rows of all graphs, segs the rows per graph -> q* [B, 2F] (allocated from the run). */
  encode(run: GraphRun, x: GpuTensor, segs: GpuSegments, steps: number, strategy: SegmentStrategy = 'auto'): GpuTensor {
    const F = this.hidden;
    if (x.cols !== F || x.rows !== segs.rows) throw new RangeError(`GpuSet2Set: x is [${x.rows}, ${x.cols}], expected [${segs.rows}, ${F}]`);
    const B = segs.count;
    const qStar = run.alloc(B, 2 * F);
    const c = run.alloc(B, F);
    const gates = run.alloc(B, 4 * F);
    const e = run.alloc(x.rows, 1);
    const a = run.alloc(x.rows, 1);
    run.clear(qStar);
    run.clear(c);
    for (let t = 0; t < steps; t++) {
      dense(run, qStar, this.w, this.b, 'none', gates);
      lstmCell(run, gates, c, qStar, 0);
      rowDot(run, x, segs, qStar, 0, e);
      segmentSoftmax(run, e, segs, { out: a, strategy });
      segmentReduce(run, x, segs, 'sum', { weights: a, out: qStar, outOffset: F, strategy });
    }
    run.release(c, gates, e, a);
    return qStar;
  }

  destroy(): void {
    this.w.destroy();
    this.b.destroy();
  }
}
