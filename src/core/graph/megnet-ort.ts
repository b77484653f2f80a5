/**
 * The MEGNet trunk (encoders and blocks) of a whole ensemble on
 * onnxruntime-web's WASM provider: the fast CPU path. The ONNX graph is
 * written by models/mlcore/megnet_onnx.py from the same weights the
 * reference (megnet.ts) reads; it factors the first edge layer (2.5x fewer
 * multiply-adds, same sum) and runs on the runtime's SIMD matrix products,
 * about 5x the throughput of the scalar reference here (bench/RESULTS.md).
 * Set2Set and the readout stay in megnet.ts (`megnetReadout`): cheap, and
 * exact where the per-graph softmax needs a per-graph maximum.
 *
 * The caller passes the runtime module (so this file runs in the browser,
 * a worker and Node alike) and the model bytes.
 */
import type * as OrtModule from 'onnxruntime-web';
import type { GraphBatch } from './batch';
import type { MegnetTrunk } from './megnet';
import { onnxMetadata, sha256Hex } from './onnx-metadata';
import type { Matrix } from './types';

type Ort = typeof OrtModule;

export interface OrtMegnetTrunk {
  readonly members: number;
  run(batch: GraphBatch): Promise<MegnetTrunk[]>;
  release(): Promise<void>;
}

/** int64 indices for the runtime: each non-negative int32 in the low word, zero above. */
function int64(a: Int32Array): BigInt64Array {
  const out = new BigInt64Array(a.length);
  const words = new Int32Array(out.buffer);
  for (let i = 0; i < a.length; i++) words[2 * i] = a[i];
  return out;
}

/** 1 / max(1, size) of each CSR segment, as a column. */
function inverseCounts(offsets: Int32Array): Float32Array {
  const out = new Float32Array(offsets.length - 1);
  for (let i = 0; i < out.length; i++) out[i] = 1 / Math.max(1, offsets[i + 1] - offsets[i]);
  return out;
}

/**
 * Opens the trunk. `weights` is the weight file (.bin) the reference reads:
 * the ONNX file records the SHA-256 of the one it was built from, and a
 * mismatch is refused rather than giving numbers from other weights.
 */
export async function openOrtMegnetTrunk(
  ort: Ort,
  onnx: Uint8Array,
  expect: { members: number; features: number; weights?: ArrayBuffer | Uint8Array },
): Promise<OrtMegnetTrunk> {
  const meta = onnxMetadata(onnx);
  if (Number(meta.members) !== expect.members) throw new Error(`the ONNX trunk has ${meta.members ?? 'no'} members, the weights ${expect.members}`);
  if (expect.weights && meta.weights_sha256 !== (await sha256Hex(expect.weights))) {
    throw new Error('the ONNX trunk was built from other weights than the model file (rerun: cd models && python3 -m properties.export_trunk)');
  }
  const session = await ort.InferenceSession.create(onnx, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const F = expect.features;
  return {
    members: expect.members,
    async run(batch: GraphBatch): Promise<MegnetTrunk[]> {
      if (!batch.state) throw new RangeError('MEGNet: every graph needs a state vector');
      const N = batch.nodes.rows;
      const E = batch.edges.rows;
      const B = batch.graphs;
      const t = (type: 'float32' | 'int64', data: Float32Array | BigInt64Array, dims: number[]) => new ort.Tensor(type, data, dims);
      const out = await session.run({
        nodes: t('float32', batch.nodes.data, [N, batch.nodes.cols]),
        dist: t('float32', batch.edges.data, [E]),
        src: t('int64', int64(batch.src), [E]),
        dst: t('int64', int64(batch.dst), [E]),
        state: t('float32', batch.state.data, [B, batch.state.cols]),
        node_graph: t('int64', int64(batch.nodeGraph), [N]),
        edge_graph: t('int64', int64(batch.edgeGraph), [E]),
        inv_in_degree: t('float32', inverseCounts(batch.edgeOffsets), [N, 1]),
        inv_graph_nodes: t('float32', inverseCounts(batch.nodeOffsets), [B, 1]),
        inv_graph_edges: t('float32', inverseCounts(batch.edgeGraphOffsets), [B, 1]),
      });
      const take = (name: string, rows: number): Matrix => {
        const data = out[name]?.data;
        if (!(data instanceof Float32Array) || data.length !== rows * F) throw new Error(`the ONNX trunk returned no [${rows}, ${F}] ${name}`);
        return { data, rows, cols: F };
      };
      return Array.from({ length: expect.members }, (_, k) => ({ v: take(`v${k}`, N), e: take(`e${k}`, E), u: take(`u${k}`, B) }));
    },
    release: () => session.release(),
  };
}
