/**
 * The exported ONNX defect model on onnxruntime-web, WebGPU or WASM
 * execution provider, for the parity test against PyTorch (fixtures written
 * by models/defects/export.py) and the CPU/WGSL MEGNet.
 */
import * as ort from 'onnxruntime-web/webgpu';
import onnxUrl from '../../models/defects/export/megnet-sparse.onnx?url';

// The runtime's .mjs/.wasm files are served under ort/ (scripts/vite-plugin-ort.ts).
ort.env.wasm.wasmPaths = new URL(`${import.meta.env.BASE_URL}ort/`, location.href).href;

const sessions = new Map<string, Promise<ort.InferenceSession>>();

function session(provider: 'webgpu' | 'wasm'): Promise<ort.InferenceSession> {
  let s = sessions.get(provider);
  if (!s) {
    s = ort.InferenceSession.create(onnxUrl, { executionProviders: [provider] });
    sessions.set(provider, s);
  }
  return s;
}

export interface OnnxGraph {
  nodes: number[];
  src: number[];
  dst: number[];
  dist: number[];
  state: number[];
}

export const onnxLab = {
  async onnxDefect(a: { graph: OnnxGraph; provider: 'webgpu' | 'wasm' }) {
    try {
      const s = await session(a.provider);
      const g = a.graph;
      const N = g.nodes.length / 33;
      const E = g.dist.length;
      const feeds = {
        nodes: new ort.Tensor('float32', Float32Array.from(g.nodes), [N, 33]),
        src: new ort.Tensor('int64', BigInt64Array.from(g.src.map(BigInt)), [E]),
        dst: new ort.Tensor('int64', BigInt64Array.from(g.dst.map(BigInt)), [E]),
        dist: new ort.Tensor('float32', Float32Array.from(g.dist), [E]),
        state: new ort.Tensor('float32', Float32Array.from(g.state), [1, 7]),
      };
      const t0 = performance.now();
      const out = await s.run(feeds);
      const ms = performance.now() - t0;
      // y: the ensemble's mean [1, 2]; members: each member's [K, 2], flattened.
      return { y: Array.from(out.y.data as Float32Array), members: Array.from(out.members.data as Float32Array), ms, provider: a.provider };
    } catch (e) {
      return { error: `${(e as Error).name}: ${(e as Error).message}` };
    }
  },
};
