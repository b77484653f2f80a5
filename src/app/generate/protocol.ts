/**
 * Messages between the page and the generation worker (generate/worker.ts).
 * Everything is plain data (structured clone): manifests, crystals, timings.
 */
import type { CdvaeManifest } from '../../core/generate/manifest';
import type { SampleFrame, SampleResult } from '../../core/generate/langevin';
import type { TargetOutcome, TargetRequest } from '../../core/generate/property-head';
import type { GenerativeModelInfo, ProviderPreference } from './models';

/** Per generated crystal: no training crystal matches it (new); no earlier crystal of the batch matches it (unique). */
export interface Novelty {
  isNew: boolean[];
  unique: boolean[];
  ms: number;
}

export type GenerateRequest =
  | { kind: 'open'; id: number; model: GenerativeModelInfo; preference: ProviderPreference }
  | { kind: 'generate'; id: number; n: number; seed: number; stepsPerLevel: number; keepEvery: number; pace: Pace; target?: TargetRequest }
  | { kind: 'cancel'; id: number };

export type GenerateReply =
  | { kind: 'opened'; id: number; manifest: CdvaeManifest; provider: string; fallback: string | null }
  /** `phase`: the target mode's gradient steps come first, then the sampling steps. */
  | { kind: 'progress'; id: number; done: number; total: number; phase: 'optimise' | 'sample' }
  /** `keep`: a frame of the recorded trajectory (for replay); `show`: one to draw now. */
  | { kind: 'frame'; id: number; frame: SampleFrame; keep: boolean; show: boolean }
  | { kind: 'done'; id: number; result: SampleResult; target: TargetOutcome | null; novelty: Novelty }
  | { kind: 'error'; id: number; message: string; cancelled: boolean };

/** How often the worker reports to the page while sampling: a frame to show and the progress bar, each at most once per so many ms. */
export interface Pace {
  frameMs: number;
  progressMs: number;
}

/**
 * About 12 frames a second (issue 30: at least 10) and the bar 20 times a
 * second: a smooth animation, few enough messages that the page draws each.
 */
export const HARDWARE_PACE: Pace = { frameMs: 80, progressMs: 50 };

/**
 * Where WebGL is a software renderer (webgl.ts; the page itself is then
 * composited on the CPU too), every repaint is rasterised on the cores the
 * sampler needs: at the hardware pace, 16 perov_5 crystals at the default
 * quality took 15.6 s in the browser, and SwiftShader's threads used 12 s of
 * CPU; at 4 frames and 4 bar updates a second, 11.2 s and 2.7 s (with no
 * frames at all, 10.0 s; Node's CLI takes about 9 s). bench/RESULTS.md,
 * "Generation: the page's pace on a software renderer".
 */
export const SOFTWARE_PACE: Pace = { frameMs: 250, progressMs: 250 };
/** The worker reads its messages (a cancel) at least this often while sampling. */
export const YIELD_INTERVAL_MS = 40;
