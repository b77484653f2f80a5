/**
 * The page's side of the generation worker: requests with ids, frames and
 * progress as callbacks, cancel. One worker per page, started when Generate
 * first opens (so onnxruntime is never loaded for visitors who do not
 * generate).
 */
import type { CdvaeManifest } from '../../core/generate/manifest';
import type { SampleFrame, SampleResult } from '../../core/generate/langevin';
import type { GenerativeModelInfo, ProviderPreference } from './models';
import type { TargetOutcome, TargetRequest } from '../../core/generate/property-head';
import type { GenerateReply, GenerateRequest, Novelty, Pace } from './protocol';

export interface OpenedInfo {
  manifest: CdvaeManifest;
  /** The backend in use, in words. */
  provider: string;
  /** Why the preferred provider is not the one in use, if it is not. */
  fallback: string | null;
}

export interface RunHandlers {
  onProgress: (done: number, total: number, phase: 'optimise' | 'sample') => void;
  onFrame: (frame: SampleFrame, keep: boolean, show: boolean) => void;
}

/** A run that was cancelled rejects with this (name 'AbortError', as an aborted fetch does). */
export class GenerationCancelled extends Error {
  constructor() {
    super('Generation cancelled.');
    this.name = 'AbortError';
  }
}

interface Pending {
  resolve: (value: never) => void;
  reject: (e: Error) => void;
  handlers?: RunHandlers;
}

/** A finished run: the crystals, what the target mode did if it ran, and which crystals are new and unique. */
export type RunResult = SampleResult & { target: TargetOutcome | null; novelty: Novelty };

export class GenerateWorker {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private get port(): Worker {
    if (!this.worker) {
      this.worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'generate' });
      this.worker.onmessage = (ev: MessageEvent<GenerateReply>) => this.receive(ev.data);
      this.worker.onerror = (ev) => {
        // A worker that failed to start (or crashed) fails what it had, and the next request starts a fresh one.
        for (const p of this.pending.values()) p.reject(new Error(ev.message || 'the generation worker stopped'));
        this.pending.clear();
        this.worker?.terminate();
        this.worker = null;
      };
    }
    return this.worker;
  }

  private receive(r: GenerateReply): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    switch (r.kind) {
      case 'progress':
        p.handlers?.onProgress(r.done, r.total, r.phase);
        return;
      case 'frame':
        p.handlers?.onFrame(r.frame, r.keep, r.show);
        return;
      case 'opened':
        this.pending.delete(r.id);
        (p.resolve as (v: OpenedInfo) => void)({ manifest: r.manifest, provider: r.provider, fallback: r.fallback });
        return;
      case 'done':
        this.pending.delete(r.id);
        (p.resolve as (v: RunResult) => void)({ ...r.result, target: r.target, novelty: r.novelty });
        return;
      case 'error':
        this.pending.delete(r.id);
        p.reject(r.cancelled ? new GenerationCancelled() : new Error(r.message));
    }
  }

  private request<T>(req: GenerateRequest, handlers?: RunHandlers): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.set(req.id, { resolve: resolve as (v: never) => void, reject, handlers });
      this.port.postMessage(req);
    });
  }

  open(model: GenerativeModelInfo, preference: ProviderPreference): Promise<OpenedInfo> {
    return this.request({ kind: 'open', id: this.nextId++, model: { ...model, urls: { ...model.urls } }, preference });
  }

  /** Samples in the worker; `keepEvery`: every how many steps a frame is kept for the replay; `pace`: how often to report frames and progress. */
  generate(
    opts: { n: number; seed: number; stepsPerLevel: number; keepEvery: number; pace: Pace; target?: TargetRequest },
    handlers: RunHandlers,
  ): { id: number; result: Promise<RunResult> } {
    const id = this.nextId++;
    return { id, result: this.request<RunResult>({ kind: 'generate', id, ...opts }, handlers) };
  }

  cancel(id: number): void {
    if (this.pending.has(id)) this.port.postMessage({ kind: 'cancel', id } satisfies GenerateRequest);
  }
}
