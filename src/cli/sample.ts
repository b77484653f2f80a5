/**
 * `latticelab sample`: crystals from an exported CDVAE, sampled in Node with
 * the same sampler as the app (src/core/generate/langevin.ts): the score
 * network on the project's WASM SIMD kernels where the model was exported
 * with them (core/generate/wasm-score/), else on onnxruntime-web's WASM
 * provider, which also runs the heads.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeStructures } from '../core/formats/index';
import { type SampleResult, sampleCrystals } from '../core/generate/langevin';
import { type CdvaeManifest, parseManifest } from '../core/generate/manifest';
import { createOrtScoreModel } from '../core/generate/ort-score-model';
import { hasWasmScore, withWasmScore } from '../core/generate/wasm-score/model';
import { type KnownSet, markNovelty, parseKnown } from '../core/generate/novelty';
import { aimLatents, DEFAULT_OPTIMIZATION, type Objective, parsePropertyHead, type TargetOutcome } from '../core/generate/property-head';
import { crystalToStructure, summarize } from '../core/generate/to-structure';
import { initSymmetryNode } from '../node/moyo';

const EXPORTS = fileURLToPath(new URL('../../models/cdvae/export/', import.meta.url));

export class SampleInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SampleInputError';
  }
}

/** A model name (a folder of models/cdvae/export) or a path to such a folder. */
export function resolveModelDir(model: string): string {
  const dir = existsSync(join(model, 'model.json')) ? model : join(EXPORTS, model);
  if (!existsSync(join(dir, 'model.json'))) {
    const known = existsSync(EXPORTS) ? ' (exported models live in models/cdvae/export/)' : '';
    throw new SampleInputError(`no CDVAE named or at '${model}'${known}`);
  }
  return dir;
}

export interface SampleCliOptions {
  model: string;
  n: number;
  seed: number;
  stepsPerLevel?: number;
  /** `--target`, as typed: min, max, a number, or NAME=VALUE with the model's property column as NAME. */
  target?: string;
  /** Adam steps for the target (default 2,000: DEFAULT_OPTIMIZATION). */
  targetSteps?: number;
  /** Where the score network runs: 'auto' (the WASM SIMD kernels where the model has their weights), or one of the two. */
  score?: 'auto' | 'wasm-simd' | 'onnx';
  onProgress?: (done: number, total: number) => void;
}

/**
 * `--target min|max|VALUE|NAME=VALUE` for a model whose property is
 * `manifest.property` (NAME: its column, e.g. heat_ref; or its name).
 */
export function parseTarget(text: string, manifest: CdvaeManifest): Objective {
  const p = manifest.property;
  if (!p) throw new SampleInputError(`model ${manifest.dataset} has no property head to aim with`);
  let value = text.trim();
  const eq = value.indexOf('=');
  if (eq >= 0) {
    const name = value.slice(0, eq).trim();
    const known = [p.column, p.name, p.name.replace(/ /g, '_')];
    if (!known.includes(name)) {
      throw new SampleInputError(
        `model ${manifest.dataset} predicts ${p.column} (${p.name}, ${p.unit}), not '${name}'; use --target ${p.column}=VALUE, min or max`,
      );
    }
    value = value.slice(eq + 1).trim();
  }
  if (value === 'min' || value === 'lowest') return { kind: 'min' };
  if (value === 'max' || value === 'highest') return { kind: 'max' };
  const x = Number(value);
  if (value === '' || !Number.isFinite(x)) throw new SampleInputError(`--target must be min, max, a number or ${p.column}=NUMBER, got '${text}'`);
  return { kind: 'near', value: x };
}

export interface SampleRun {
  result: SampleResult;
  manifest: CdvaeManifest;
  target: TargetOutcome | null;
  /** The training crystals (known.json, written by models/cdvae/novelty.py); null for an older export without it. */
  known: KnownSet | null;
}

export async function sampleFromCli(o: SampleCliOptions): Promise<SampleRun> {
  const dir = resolveModelDir(o.model);
  const manifest = parseManifest(JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')));
  const knownPath = join(dir, 'known.json');
  const known = existsSync(knownPath) ? parseKnown(readFileSync(knownPath, 'utf8')) : null;
  const objective = o.target === undefined ? null : parseTarget(o.target, manifest);
  let aim: ReturnType<typeof aimLatents> | null = null;
  if (objective) {
    if (!manifest.files.property_head)
      throw new SampleInputError(`model ${manifest.dataset} was exported without its property head; re-export it (models/cdvae/export.py)`);
    const head = parsePropertyHead(JSON.parse(readFileSync(join(dir, manifest.files.property_head), 'utf8')));
    aim = aimLatents(head, { objective, steps: o.targetSteps ?? DEFAULT_OPTIMIZATION.steps, lr: DEFAULT_OPTIMIZATION.lr });
  }
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  const kernels = o.score === 'wasm-simd' || ((o.score ?? 'auto') === 'auto' && hasWasmScore(manifest));
  if (kernels && !hasWasmScore(manifest)) {
    throw new SampleInputError(`model ${manifest.dataset} has no score weights for the WASM SIMD kernels (models/cdvae/score_weights.py); use --score onnx`);
  }
  const heads = readFileSync(join(dir, manifest.files.heads));
  const model = kernels
    ? await withWasmScore(await createOrtScoreModel(ort, manifest, { heads }, 'wasm'), readFileSync(join(dir, manifest.files.score_weights!)))
    : await createOrtScoreModel(ort, manifest, { heads, score: readFileSync(join(dir, manifest.files.score)) }, 'wasm');
  try {
    const result = await sampleCrystals(model, {
      n: o.n,
      seed: o.seed,
      stepsPerLevel: o.stepsPerLevel,
      onProgress: o.onProgress,
      transformLatent: aim?.transform,
    });
    return { result, manifest, target: aim?.outcome() ?? null, known };
  } finally {
    await model.release?.();
  }
}

export async function sampleOutput(o: SampleCliOptions, format: 'cif' | 'json'): Promise<string> {
  const { result, manifest, target, known } = await sampleFromCli(o);
  await initSymmetryNode();
  const rows = result.crystals.map((c, k) => ({ c, s: summarize(c, manifest), k }));
  if (format === 'cif') {
    const structures = rows.map(({ c, s, k }) => crystalToStructure(c, `${manifest.dataset}_seed${o.seed}_${k}_${s.formula}`));
    return writeStructures(structures, 'cif');
  }
  // Only the JSON says which crystals are new and unique: the descriptors are not computed for CIF.
  const novelty = markNovelty(result.crystals, known);
  return (
    JSON.stringify(
      {
        model: manifest.dataset,
        seed: o.seed,
        n: o.n,
        steps: result.steps,
        provider: result.provider,
        /** where z came from: the manifest's fitted Gaussian (latent-prior.ts) or N(0, I) */
        latentPrior: manifest.latent_prior ? 'fitted' : 'standard',
        /** which export sampled them, so that runs of two trainings are never pooled (evaluate.py --samples) */
        scoreNet: manifest.score_net ?? 'radial',
        epochs: manifest.training.epochs,
        /** the clamp on PaiNN's features, when the export has one (null: none) */
        featureBound: manifest.feature_bound?.bound ?? null,
        ms: Number(result.ms.toFixed(1)),
        ...(target
          ? {
              target: {
                objective: target.objective,
                property: manifest.property,
                gradientSteps: target.steps,
                lr: target.lr,
                ms: Number(target.ms.toFixed(1)),
              },
            }
          : {}),
        crystals: rows.map(({ c, s, k }) => ({
          ...s,
          ...(target ? { propertyBeforeTarget: target.before[k] } : {}),
          new: novelty.isNew[k],
          unique: novelty.unique[k],
          lattice: { abc: c.lengths, angles: c.angles, matrix: c.lattice },
          species: c.numbers,
          frac: c.frac,
        })),
      },
      null,
      2,
    ) + '\n'
  );
}
