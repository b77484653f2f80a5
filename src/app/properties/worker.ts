/**
 * The property worker: loads the crystal-property MEGNet once and runs it
 * off the page's thread, so a 200-atom crystal or a whole dataset never
 * freezes the page. Requests are served one at a time, in batches, with
 * progress after each batch and a cancel honoured between batches.
 *
 * The CPU side is the fast path (the ensemble's trunk on onnxruntime-web's
 * WASM provider, core/properties/ort-path.ts), or the TypeScript reference
 * where that cannot load. Backend 'auto' is measured, not guessed: the first
 * time a batch of a given size class arrives, it runs on that CPU path and
 * (twice, the first to compile the pipelines) on WebGPU, and the faster path
 * serves that size class from then on, on this visit and the next ones
 * (calibration-store.ts: per adapter, browser, model and thread count). A
 * software adapter (SwiftShader) loses to the CPU here; a hardware GPU may
 * win on large batches (bench/RESULTS.md).
 */
/// <reference lib="webworker" />
import type { PropertyModel, PropertyPrediction } from '../../core/properties/model';
import type { Structure } from '../../core/structure';
import { describeAdapter, getGpu } from '../../gpu/device';
import type { GpuPropertyModel } from '../../gpu/property-model';
import type { OrtPropertyPath } from '../../core/properties/ort-path';
import { ortThreads } from '../ort-runtime';
import { type CalibrationKey, recallCalibration, rememberCalibration } from './calibration-store';
import { loadOrtPropertyPath, loadPropertyModel as loadModel } from './load-model';
import { type Backend, fromData, type Reply, type Request } from './protocol';

declare const self: DedicatedWorkerGlobalScope;

let gpuModel: Promise<GpuPropertyModel | null> | null = null;
let gpuProblem = '';
let wasmPath: Promise<OrtPropertyPath | null> | null = null;
let wasmProblem = '';
/** Per size class ('single', 'batch'): the backend calibration chose, and its measurement. */
const chosen = new Map<string, { backend: Backend; why: string }>();
const cancelled = new Set<number>();
let queue: Promise<void> = Promise.resolve();

function loadGpu(m: PropertyModel): Promise<GpuPropertyModel | null> {
  gpuModel ??= (async () => {
    try {
      const gpu = await getGpu(self.navigator.gpu);
      const { GpuPropertyModel } = await import('../../gpu/property-model');
      return new GpuPropertyModel(m, gpu);
    } catch (e) {
      gpuProblem = (e as Error).message;
      return null;
    }
  })();
  return gpuModel;
}

function loadWasm(m: PropertyModel): Promise<OrtPropertyPath | null> {
  wasmPath ??= loadOrtPropertyPath(m).catch((e: unknown) => {
    wasmProblem = (e as Error).message;
    console.warn(`property model: the WebAssembly path failed to load (${wasmProblem}); using the TypeScript reference`);
    return null;
  });
  return wasmPath;
}

interface CpuPath {
  backend: 'cpu' | 'wasm';
  predict(batch: Structure[]): Promise<PropertyPrediction[]>;
  /** What the panel adds about it: its threads, or why it is not the fast path. */
  note: string;
}

/** The fastest CPU path that loads: WebAssembly, else the TypeScript reference. */
async function cpuPath(m: PropertyModel): Promise<CpuPath> {
  const wasm = await loadWasm(m);
  if (wasm) {
    const n = ortThreads();
    const why = n === 1 && !self.crossOriginIsolated ? ' (the page is not cross-origin isolated)' : '';
    return { backend: 'wasm', predict: (b) => wasm.predict(b), note: `; WebAssembly on ${n} thread${n > 1 ? 's' : ''}${why}` };
  }
  return { backend: 'cpu', predict: async (b) => m.predict(b), note: `; WebAssembly path unavailable (${wasmProblem})` };
}

const post = (r: Reply) => self.postMessage(r);

async function timed<T>(f: () => Promise<T> | T): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await f();
  return [out, performance.now() - t0];
}

/** Runs one batch on the chosen backend, calibrating the size class on first use. */
async function runBatch(
  m: PropertyModel,
  batch: Structure[],
  pref: Request & { kind: 'predict' },
): Promise<{ out: PropertyPrediction[]; backend: Backend; why: string }> {
  if (pref.backend === 'cpu') return { out: m.predict(batch), backend: 'cpu', why: 'TypeScript reference chosen' };
  const cpu = await cpuPath(m);
  if (pref.backend === 'wasm') return { out: await cpu.predict(batch), backend: cpu.backend, why: `WebAssembly chosen${cpu.note}` };
  const size = batch.length === 1 ? 'single' : 'batch';
  if (pref.backend === 'auto') {
    const known = chosen.get(size) ?? (await recalled(m, cpu, size));
    if (known && known.backend !== 'webgpu') return { out: await cpu.predict(batch), ...known };
  }
  const gpu = await loadGpu(m);
  if (pref.backend === 'webgpu') {
    if (!gpu) return { out: await cpu.predict(batch), backend: cpu.backend, why: `WebGPU unavailable (${gpuProblem}); ran on the CPU${cpu.note}` };
    return { out: await gpu.predict(batch), backend: 'webgpu', why: `WebGPU chosen (${gpu.gpu.adapterName})` };
  }
  if (!gpu) return { out: await cpu.predict(batch), backend: cpu.backend, why: `no WebGPU (${gpuProblem})${cpu.note}` };
  const known = chosen.get(size);
  if (known) return { out: known.backend === 'webgpu' ? await gpu.predict(batch) : await cpu.predict(batch), ...known };
  // Each path runs once untimed first: the CPU's JIT and the GPU's pipeline
  // compilation and weight upload are one-off costs, not the steady state.
  await cpu.predict(batch);
  const [out, cpuMs] = await timed(() => cpu.predict(batch));
  await gpu.predict(batch);
  const [, gpuMs] = await timed(() => gpu.predict(batch));
  const backend: Backend = gpuMs < cpuMs ? 'webgpu' : cpu.backend;
  const per = (ms: number) => `${(ms / batch.length).toFixed(1)} ms`;
  const cpuName = cpu.backend === 'wasm' ? 'CPU (WebAssembly)' : 'CPU';
  const why = `${backend === 'webgpu' ? 'WebGPU' : cpuName} chosen by a measurement on ${gpu.gpu.adapterName}: ${cpuName} ${per(cpuMs)}, WebGPU ${per(gpuMs)} per structure at batch ${batch.length}${cpu.note}`;
  chosen.set(size, { backend, why });
  void rememberCalibration(calibrationKey(m, gpu.gpu.adapterName, cpu.backend, size), { backend, why, measured: new Date().toISOString().slice(0, 10) });
  return { out, backend, why };
}

/** What a remembered choice is valid for (calibration-store.ts). */
function calibrationKey(m: PropertyModel, adapter: string, cpu: Backend, size: 'single' | 'batch'): CalibrationKey {
  return { adapter, agent: self.navigator.userAgent, model: m.manifest.created, threads: ortThreads(), cpu, size };
}

/** The adapter's name without creating a device (null: no WebGPU adapter). */
let adapterName: Promise<string | null> | null = null;
function adapterNameHere(): Promise<string | null> {
  adapterName ??= (async () => {
    try {
      const adapter = await self.navigator.gpu?.requestAdapter({ powerPreference: 'high-performance' });
      return adapter ? describeAdapter(adapter.info).adapterName : null;
    } catch {
      return null;
    }
  })();
  return adapterName;
}

/**
 * A choice measured on an earlier visit for this adapter, browser, model
 * and size class: used as is, so the first prediction of a visit does not
 * wait for a measurement, nor for the GPU when the CPU was chosen.
 */
async function recalled(m: PropertyModel, cpu: CpuPath, size: 'single' | 'batch'): Promise<{ backend: Backend; why: string } | null> {
  const adapter = await adapterNameHere();
  if (!adapter) return null;
  const c = await recallCalibration(calibrationKey(m, adapter, cpu.backend, size));
  if (!c) return null;
  const choice = { backend: c.backend, why: `${c.why} (measured on ${c.measured}, remembered)` };
  chosen.set(size, choice);
  return choice;
}

async function serve(req: Request & { kind: 'predict' }): Promise<void> {
  const t0 = performance.now();
  try {
    const m = await loadModel();
    const structures = req.structures.map(fromData);
    let backend: Backend = 'cpu';
    let why = '';
    let computeMs = 0;
    for (let k = 0; k < structures.length; k += req.batch) {
      if (cancelled.has(req.id)) break;
      const batch = structures.slice(k, k + req.batch);
      const t1 = performance.now();
      const r = await runBatch(m, batch, req);
      computeMs += performance.now() - t1;
      ({ backend, why } = r);
      post({ id: req.id, kind: 'progress', done: k + batch.length, total: structures.length, predictions: r.out });
      // Let a cancel message in between batches.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    const stopped = cancelled.delete(req.id);
    post({
      id: req.id,
      kind: 'done',
      backend,
      why,
      msPerStructure: computeMs / Math.max(1, structures.length),
      ms: performance.now() - t0,
      cancelled: stopped,
    });
  } catch (e) {
    cancelled.delete(req.id);
    post({ id: req.id, kind: 'error', message: (e as Error).message });
  }
}

self.onmessage = (ev: MessageEvent<Request>) => {
  const req = ev.data;
  if (req.kind === 'cancel') {
    cancelled.add(req.id);
    return;
  }
  queue = queue.then(() => serve(req));
};
