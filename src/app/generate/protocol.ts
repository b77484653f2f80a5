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
  | { kind: 'generate'; id: number; n: number; seed: number; stepsPerLevel: number; keepEvery: number; target?: TargetRequest }
  | { kind: 'cancel'; id: number };

export type GenerateReply =
  | { kind: 'opened'; id: number; manifest: CdvaeManifest; provider: string; fallback: string | null }
  /** `phase`: the target mode's gradient steps come first, then the sampling steps. */
  | { kind: 'progress'; id: number; done: number; total: number; phase: 'optimise' | 'sample' }
  /** `keep`: a frame of the recorded trajectory (for replay), not only one to show now. */
  | { kind: 'frame'; id: number; frame: SampleFrame; keep: boolean }
  | { kind: 'done'; id: number; result: SampleResult; target: TargetOutcome | null; novelty: Novelty }
  | { kind: 'error'; id: number; message: string; cancelled: boolean };

/**
 * At most one frame to show per this many ms (about 12 per second): enough
 * for a smooth animation, few enough that the page draws each one.
 */
export const FRAME_INTERVAL_MS = 80;
/** The worker reads its messages (a cancel) at least this often while sampling. */
export const YIELD_INTERVAL_MS = 40;
