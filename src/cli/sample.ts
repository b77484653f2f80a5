/**
 * `latticelab sample`: crystals from an exported CDVAE, sampled in Node with
 * the same sampler as the app (src/core/generate/langevin.ts) on
 * onnxruntime-web's WASM provider.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeStructures } from '../core/formats/index';
import { type SampleResult, sampleCrystals } from '../core/generate/langevin';
import { type CdvaeManifest, parseManifest } from '../core/generate/manifest';
import { createOrtScoreModel } from '../core/generate/ort-score-model';
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
  onProgress?: (done: number, total: number) => void;
}

export async function sampleFromCli(o: SampleCliOptions): Promise<{ result: SampleResult; manifest: CdvaeManifest }> {
  const dir = resolveModelDir(o.model);
  const manifest = parseManifest(JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')));
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  const model = await createOrtScoreModel(
    ort,
    manifest,
    { heads: readFileSync(join(dir, manifest.files.heads)), score: readFileSync(join(dir, manifest.files.score)) },
    'wasm',
  );
  try {
    const result = await sampleCrystals(model, { n: o.n, seed: o.seed, stepsPerLevel: o.stepsPerLevel, onProgress: o.onProgress });
    return { result, manifest };
  } finally {
    await model.release?.();
  }
}

export async function sampleOutput(o: SampleCliOptions, format: 'cif' | 'json'): Promise<string> {
  const { result, manifest } = await sampleFromCli(o);
  await initSymmetryNode();
  const rows = result.crystals.map((c, k) => ({ c, s: summarize(c, manifest), k }));
  if (format === 'cif') {
    const structures = rows.map(({ c, s, k }) => crystalToStructure(c, `${manifest.dataset}_seed${o.seed}_${k}_${s.formula}`));
    return writeStructures(structures, 'cif');
  }
  return (
    JSON.stringify(
      {
        model: manifest.dataset,
        seed: o.seed,
        n: o.n,
        steps: result.steps,
        provider: result.provider,
        ms: Number(result.ms.toFixed(1)),
        crystals: rows.map(({ c, s }) => ({
          ...s,
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
