/**
 * The Generate view's reactive state: model and provider, the sampling
 * settings, progress, the denoising trajectory shown in the 3D view, and the
 * results with their checks. The sampling runs in the generation worker
 * (generate/worker.ts, the DOM-free core/generate/langevin.ts); this class
 * only shows what it reports.
 */
import { type GeneratedCrystal, MAX_SAMPLES, MAX_STEPS_PER_LEVEL, type SampleFrame } from '../../core/generate/langevin';
import { DEFAULT_OPTIMIZATION, MAX_OPTIMIZATION_STEPS, type Objective } from '../../core/generate/property-head';
import type { CdvaeManifest } from '../../core/generate/manifest';
import { crystalToStructure, type GeneratedSummary, summarize } from '../../core/generate/to-structure';
import type { Structure } from '../../core/structure';
import { softwareWebgl } from '../webgl';
import { GenerateWorker, type OpenedInfo, type RunResult } from './client';
import { HARDWARE_PACE, type Pace, SOFTWARE_PACE } from './protocol';
import { GENERATIVE_MODELS, type ProviderPreference } from './models';

export interface GeneratedResult {
  crystal: GeneratedCrystal;
  summary: GeneratedSummary;
  structure: Structure;
  /** Target mode: the property head's value at the drawn latent vector, before the gradient steps. */
  headBefore: number | null;
  /** No training crystal matches it (core/generate/novelty.ts). */
  isNew: boolean;
  /** No earlier crystal of this batch matches it. */
  unique: boolean;
}

/** What the user asks of the property: nothing (plain sampling), lowest, highest, or near a value. */
export type TargetKind = 'none' | Objective['kind'];

/** About this many trajectory frames are kept per run (enough for a smooth replay, small in memory). */
const FRAMES = 60;

export class GenerateSession {
  modelId = $state(GENERATIVE_MODELS[0].id);
  preference: ProviderPreference = $state('auto');
  n = $state(8);
  seed = $state(1);
  stepsPerLevel = $state(10);
  targetKind: TargetKind = $state('none');
  targetValue = $state(0);
  /** Adam steps on the latent vectors (DEFAULT_OPTIMIZATION says why 2,000 and not the paper's 5,000). */
  targetSteps: number = $state(DEFAULT_OPTIMIZATION.steps);
  /** Which part of a run the progress bar shows. */
  phase: 'optimise' | 'sample' = $state('sample');
  /** The target of the last finished run, for the labels of its results. */
  lastTarget: { objective: Objective; steps: number; ms: number } | null = $state(null);

  opened: OpenedInfo | null = $state(null);
  private openedKey = $state('');
  loading = $state(false);
  error: string | null = $state(null);
  running = $state(false);
  progress = $state({ done: 0, total: 0 });
  /** Timing of the last run. */
  timing: { ms: number; modelMs: number; graphMs: number; steps: number; provider: string } | null = $state(null);
  results: GeneratedResult[] = $state([]);
  selected = $state(0);
  /** The structure in the 3D view while sampling or replaying; null shows the selected result. */
  frame: Structure | null = $state(null);
  frameLabel: string | null = $state(null);

  private readonly worker = new GenerateWorker();
  /** How often the worker reports frames and progress: less often where WebGL rasterises on the CPU (protocol.ts). */
  private get pace(): Pace {
    return softwareWebgl() ? SOFTWARE_PACE : HARDWARE_PACE;
  }
  private runId = 0;
  private trajectory: SampleFrame[] = [];

  readonly limits = { maxSamples: MAX_SAMPLES, maxStepsPerLevel: MAX_STEPS_PER_LEVEL, maxTargetSteps: MAX_OPTIMIZATION_STEPS };

  get objective(): Objective | null {
    if (this.targetKind === 'none') return null;
    return this.targetKind === 'near' ? { kind: 'near', value: this.targetValue } : { kind: this.targetKind };
  }

  get manifest(): CdvaeManifest | null {
    return this.opened?.manifest ?? null;
  }

  /**
   * The opened model when it is the one the controls select (model and
   * provider), else null: what the details panel may describe before a run,
   * so that it never names the previous model after the selection changed.
   */
  get openedSelection(): OpenedInfo | null {
    return this.opened && this.openedKey === this.selectionKey ? this.opened : null;
  }

  private get selectionKey(): string {
    return `${this.modelId}|${this.preference}`;
  }

  get structure(): Structure | null {
    return this.frame ?? this.results[this.selected]?.structure ?? null;
  }

  get totalSteps(): number {
    return (this.manifest?.sigmas.length ?? 50) * this.stepsPerLevel;
  }

  private opening: Promise<unknown> = Promise.resolve();

  /**
   * Opens (or reopens, after a model or provider change) the model. Calls are
   * queued: onnxruntime's WebGPU EP cannot create two sessions at once.
   */
  open(): Promise<OpenedInfo | null> {
    const next = this.opening.then(() => this.openNow());
    this.opening = next.catch(() => undefined);
    return next;
  }

  private async openNow(): Promise<OpenedInfo | null> {
    const key = this.selectionKey;
    if (this.opened && this.openedKey === key) return this.opened;
    const info = GENERATIVE_MODELS.find((m) => m.id === this.modelId);
    if (!info) {
      this.error = `unknown model ${this.modelId}`;
      return null;
    }
    this.loading = true;
    this.error = null;
    try {
      this.opened = await this.worker.open(info, this.preference);
      this.openedKey = key;
      return this.opened;
    } catch (e) {
      this.opened = null;
      this.error = (e as Error).message;
      return null;
    } finally {
      this.loading = false;
    }
  }

  validate(): string | null {
    if (!Number.isInteger(this.n) || this.n < 1 || this.n > MAX_SAMPLES) return `Number of samples must be a whole number from 1 to ${MAX_SAMPLES}.`;
    if (!Number.isInteger(this.seed)) return 'The seed must be a whole number.';
    if (!Number.isInteger(this.stepsPerLevel) || this.stepsPerLevel < 1 || this.stepsPerLevel > MAX_STEPS_PER_LEVEL) {
      return `Steps per noise level must be a whole number from 1 to ${MAX_STEPS_PER_LEVEL}.`;
    }
    if (this.targetKind !== 'none' && (!Number.isInteger(this.targetSteps) || this.targetSteps < 1 || this.targetSteps > MAX_OPTIMIZATION_STEPS)) {
      return `Gradient steps must be a whole number from 1 to ${MAX_OPTIMIZATION_STEPS}.`;
    }
    if (this.targetKind === 'near' && !Number.isFinite(this.targetValue)) return 'The target value must be a number.';
    return null;
  }

  async generate(): Promise<void> {
    if (this.running) return;
    const invalid = this.validate();
    if (invalid) {
      this.error = invalid;
      return;
    }
    const opened = await this.open();
    if (!opened) return;
    this.error = null;
    this.running = true;
    this.results = [];
    this.selected = 0;
    this.trajectory = [];
    this.progress = { done: 0, total: this.totalSteps };
    this.replayStop = false;
    const keepEvery = Math.max(1, Math.round(this.totalSteps / FRAMES));
    const objective = this.objective;
    const target = objective ? { objective, steps: this.targetSteps, lr: DEFAULT_OPTIMIZATION.lr } : undefined;
    this.phase = target ? 'optimise' : 'sample';
    if (target) this.progress = { done: 0, total: target.steps };
    let result: RunResult;
    try {
      const run = this.worker.generate(
        { n: this.n, seed: this.seed, stepsPerLevel: this.stepsPerLevel, keepEvery, pace: this.pace, target },
        {
          onProgress: (done, total, phase) => {
            this.phase = phase;
            this.progress = { done, total };
          },
          onFrame: (f, keep, show) => {
            if (keep) this.trajectory.push(f);
            // The worker marks at most ~12 frames a second to show (4 on a software renderer); the view draws the latest once per frame.
            if (show) this.showFrame(f, 0);
          },
        },
      );
      this.runId = run.id;
      result = await run.result;
    } catch (e) {
      this.runId = 0;
      this.running = false;
      this.frame = null;
      this.frameLabel = null;
      this.error = (e as Error).name === 'AbortError' ? 'Generation cancelled.' : (e as Error).message;
      return;
    }
    this.runId = 0;
    const manifest = opened.manifest;
    const outcome = result.target;
    this.lastTarget = outcome ? { objective: outcome.objective, steps: outcome.steps, ms: outcome.ms } : null;
    const aim = outcome ? `, target ${describeObjective(outcome.objective, manifest.property?.unit ?? '')}` : '';
    this.results = result.crystals.map((crystal, k) => {
      const summary = summarize(crystal, manifest);
      const title = `${summary.formula} (${manifest.dataset} CDVAE, seed ${this.seed}${aim}, #${k + 1})`;
      const structure = crystalToStructure(crystal, title, {
        source: `CDVAE ${manifest.dataset}`,
        seed: this.seed,
        sample: k,
        stepsPerLevel: this.stepsPerLevel,
        structurallyValid: summary.structurallyValid,
        compositionallyValid: summary.compositionallyValid,
        new: result.novelty.isNew[k],
        unique: result.novelty.unique[k],
        ...(outcome ? { target: describeObjective(outcome.objective, manifest.property?.unit ?? ''), gradientSteps: outcome.steps } : {}),
        ...(summary.property ? { [`predicted ${summary.property.name} (${summary.property.unit})`]: Number(summary.property.value.toFixed(4)) } : {}),
      });
      return { crystal, summary, structure, headBefore: outcome ? outcome.before[k] : null, isNew: result.novelty.isNew[k], unique: result.novelty.unique[k] };
    });
    this.timing = { ms: result.ms, modelMs: result.modelMs, graphMs: result.graphMs, steps: result.steps, provider: result.provider };
    this.frame = null;
    this.frameLabel = null;
    this.running = false;
  }

  cancel(): void {
    if (this.runId) this.worker.cancel(this.runId);
    this.replayStop = true;
  }

  private replayStop = false;

  private showFrame(f: SampleFrame, index: number): void {
    const c = f.crystals[index];
    if (!c) return;
    this.frame = crystalToStructure(c, `denoising: step ${f.step} of ${f.total}`);
    this.frameLabel = `step ${f.step} / ${f.total}, σ = ${f.sigma < 0.1 ? f.sigma.toFixed(3) : f.sigma.toFixed(2)} Å`;
  }

  /** Plays the recorded denoising trajectory of the selected result in the 3D view. */
  async replay(): Promise<void> {
    if (this.running || !this.trajectory.length) return;
    this.running = true;
    this.replayStop = false;
    try {
      for (const f of this.trajectory) {
        if (this.replayStop) break;
        // The bar follows the frame shown, not the finished run's 100 %.
        this.progress = { done: f.step, total: f.total };
        this.showFrame(f, this.selected);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      this.progress = { done: this.progress.total, total: this.progress.total };
      this.frame = null;
      this.frameLabel = null;
      this.running = false;
    }
  }

  get hasTrajectory(): boolean {
    return this.trajectory.length > 0 && this.results.length > 0;
  }
}

/** "lowest", "highest" or "near 0.5 eV/atom", for titles and labels. */
export function describeObjective(o: Objective, unit: string): string {
  return o.kind === 'min' ? 'lowest' : o.kind === 'max' ? 'highest' : `near ${o.value} ${unit}`.trim();
}
