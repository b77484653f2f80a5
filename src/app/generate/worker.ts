/**
 * The generation worker: opens the CDVAE on onnxruntime-web and runs the
 * Langevin sampler (core/generate/langevin.ts) off the page's thread, so the
 * page stays interactive while crystals condense (on the main thread a run
 * froze it for up to 9 s and the animation showed 9 frames in 22 s).
 *
 * It posts progress from the first step, a frame to show and the progress at
 * most as often as the request's pace asks (protocol.ts), the frames of the
 * replay trajectory, and the result.
 * onnxruntime's WASM session runs synchronously inside each await, so the
 * sampler would never let a cancel message in; the worker yields to its
 * event loop every YIELD_INTERVAL_MS, which bounds the cancel latency.
 */
/// <reference lib="webworker" />
import { sampleCrystals, type SampleFrame } from '../../core/generate/langevin';
import { markNovelty } from '../../core/generate/novelty';
import { aimLatents } from '../../core/generate/property-head';
import { type OpenedModel, openGenerativeModel } from './open-model';
import { type GenerateReply, type GenerateRequest, YIELD_INTERVAL_MS } from './protocol';

declare const self: DedicatedWorkerGlobalScope;

let opened: OpenedModel | null = null;
let openedKey = '';
const running = new Map<number, AbortController>();
/** Requests are served one at a time (the WebGPU EP cannot create two sessions at once). */
let queue: Promise<void> = Promise.resolve();

const post = (r: GenerateReply) => self.postMessage(r);
const tick = () => new Promise<void>((r) => setTimeout(r, 0));

async function open(req: Extract<GenerateRequest, { kind: 'open' }>): Promise<void> {
  const key = `${req.model.id}|${req.preference}`;
  try {
    if (!opened || openedKey !== key) {
      await opened?.model.release?.();
      opened = null;
      opened = await openGenerativeModel(req.model, req.preference);
      openedKey = key;
    }
    post({ kind: 'opened', id: req.id, manifest: opened.manifest, provider: opened.model.provider, fallback: opened.fallback });
  } catch (e) {
    post({ kind: 'error', id: req.id, message: `The model could not be loaded: ${(e as Error).message}`, cancelled: false });
  }
}

async function generate(req: Extract<GenerateRequest, { kind: 'generate' }>): Promise<void> {
  const abort = running.get(req.id)!;
  try {
    if (!opened) throw new Error('no model is open');
    const aim =
      req.target &&
      aimLatents(opened.head, req.target, {
        signal: abort.signal,
        reportEvery: Math.max(1, Math.round(req.target.steps / 100)),
        onProgress: (done, total) => post({ kind: 'progress', id: req.id, done, total, phase: 'optimise' }),
      });
    let lastYield = performance.now();
    let lastFrame = -Infinity;
    let lastProgress = -Infinity;
    const result = await sampleCrystals(opened.model, {
      n: req.n,
      seed: req.seed,
      stepsPerLevel: req.stepsPerLevel,
      signal: abort.signal,
      frameEvery: 1,
      transformLatent: aim?.transform,
      onProgress: (done, total) => {
        const now = performance.now();
        if (done === 1 || done === total || now - lastProgress >= req.pace.progressMs) {
          post({ kind: 'progress', id: req.id, done, total, phase: 'sample' });
          lastProgress = now;
        }
      },
      onFrame: async (frame: SampleFrame) => {
        const now = performance.now();
        const keep = frame.step % req.keepEvery === 0 || frame.step === frame.total;
        const show = now - lastFrame >= req.pace.frameMs;
        if (keep || show) post({ kind: 'frame', id: req.id, frame, keep, show });
        if (show) lastFrame = now;
        if (now - lastYield >= YIELD_INTERVAL_MS) {
          await tick(); // lets a cancel message in
          lastYield = performance.now();
        }
      },
    });
    const t0 = performance.now();
    const marks = markNovelty(result.crystals, opened.known);
    const novelty = { isNew: marks.isNew.map((x) => x === true), unique: marks.unique, ms: performance.now() - t0 };
    post({ kind: 'done', id: req.id, result, target: aim?.outcome() ?? null, novelty });
  } catch (e) {
    const cancelled = (e as Error).name === 'AbortError';
    post({ kind: 'error', id: req.id, message: cancelled ? 'Generation cancelled.' : `Generation failed: ${(e as Error).message}`, cancelled });
  } finally {
    running.delete(req.id);
  }
}

self.onmessage = (ev: MessageEvent<GenerateRequest>) => {
  const req = ev.data;
  if (req.kind === 'cancel') {
    running.get(req.id)?.abort();
    return;
  }
  if (req.kind === 'generate') running.set(req.id, new AbortController());
  queue = queue.then(() => (req.kind === 'open' ? open(req) : generate(req)));
};
