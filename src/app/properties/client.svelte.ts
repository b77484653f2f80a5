/**
 * The page's side of the property worker: one worker for the page, and the
 * reactive state of the prediction for the structure on screen. A new
 * structure cancels the prediction of the previous one, so what is shown
 * always belongs to what is on screen.
 */
import type { PropertyPrediction } from '../../core/properties/model';
import type { Structure } from '../../core/structure';
import { type Backend, type BackendPreference, type Reply, type Request, toData } from './protocol';

export interface BatchProgress {
  done: number;
  total: number;
}

export interface BatchResult {
  predictions: PropertyPrediction[];
  backend: Backend;
  why: string;
  msPerStructure: number;
  ms: number;
  cancelled: boolean;
}

interface Pending {
  onProgress: (p: BatchProgress, predictions: PropertyPrediction[]) => void;
  resolve: (r: BatchResult) => void;
  reject: (e: Error) => void;
  predictions: PropertyPrediction[];
}

/** Talks to the worker: requests with ids, progress callbacks, cancel. */
export class PropertyWorker {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private get port(): Worker {
    if (!this.worker) {
      this.worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'properties' });
      this.worker.onmessage = (ev: MessageEvent<Reply>) => this.receive(ev.data);
      this.worker.onerror = (ev) => {
        // A worker that failed to start (or crashed) fails every request, and the next request starts a fresh one.
        for (const p of this.pending.values()) p.reject(new Error(ev.message || 'the property worker stopped'));
        this.pending.clear();
        this.worker?.terminate();
        this.worker = null;
      };
    }
    return this.worker;
  }

  private receive(r: Reply): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    if (r.kind === 'progress') {
      p.predictions.push(...r.predictions);
      p.onProgress({ done: r.done, total: r.total }, r.predictions);
    } else if (r.kind === 'done') {
      this.pending.delete(r.id);
      p.resolve({ predictions: p.predictions, backend: r.backend, why: r.why, msPerStructure: r.msPerStructure, ms: r.ms, cancelled: r.cancelled });
    } else {
      this.pending.delete(r.id);
      p.reject(new Error(r.message));
    }
  }

  /** Predicts `structures` in batches of `batch`; returns the request id (for cancel) and the result. */
  predict(
    structures: readonly Structure[],
    opts: { backend?: BackendPreference; batch?: number; onProgress?: Pending['onProgress'] } = {},
  ): { id: number; result: Promise<BatchResult> } {
    const id = this.nextId++;
    const result = new Promise<BatchResult>((resolve, reject) => {
      this.pending.set(id, { onProgress: opts.onProgress ?? (() => {}), resolve, reject, predictions: [] });
    });
    const req: Request = { id, kind: 'predict', structures: structures.map(toData), backend: opts.backend ?? 'auto', batch: opts.batch ?? 16 };
    this.port.postMessage(req);
    return { id, result };
  }

  cancel(id: number): void {
    if (this.pending.has(id)) this.port.postMessage({ id, kind: 'cancel' } satisfies Request);
  }
}

export const propertyWorker = new PropertyWorker();

/** The prediction for the structure on screen. */
export class ShownPrediction {
  status = $state<'idle' | 'running' | 'done' | 'error'>('idle');
  prediction = $state<PropertyPrediction | null>(null);
  backend = $state<Backend | null>(null);
  why = $state('');
  /** Wall time from request to answer (worker start and model load included the first time), ms. */
  ms = $state(0);
  /** The model's own compute time, ms. */
  computeMs = $state(0);
  error = $state('');
  private current: { id: number; structure: Structure } | null = null;

  constructor(private readonly worker: PropertyWorker = propertyWorker) {}

  /** Predicts `s` (null clears); a previous request still running is cancelled and its answer ignored. */
  show(s: Structure | null): void {
    if (this.current?.structure === s) return;
    if (this.current) this.worker.cancel(this.current.id);
    this.current = null;
    this.prediction = null;
    this.error = '';
    if (!s || s.numSites === 0) {
      this.status = 'idle';
      return;
    }
    this.status = 'running';
    const { id, result } = this.worker.predict([s], { batch: 1 });
    const mine = { id, structure: s };
    this.current = mine;
    result.then(
      (r) => {
        if (this.current !== mine || r.cancelled) return;
        this.prediction = r.predictions[0] ?? null;
        this.backend = r.backend;
        this.why = r.why;
        this.ms = r.ms;
        this.computeMs = r.msPerStructure;
        this.status = 'done';
      },
      (e: unknown) => {
        if (this.current !== mine) return;
        this.error = (e as Error).message;
        this.status = 'error';
      },
    );
  }
}
