/**
 * `latticelab predict SPEC|FILE [--model PATH]`: formation energy per defect
 * site and HOMO−LUMO gap from the project's sparse-representation MEGNet.
 * SPEC is `HOST:NxN:EDITS` (src/core/defects/spec.ts); FILE is a JSON file
 * holding such a spec (`{"spec": "..."}`) or a list of them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeMembers, type ModelManifest } from '../core/defects/model-file';
import { DefectModel } from '../core/defects/predict';
import { formatDefectSpec, parseDefectSpec, SpecError } from '../core/defects/spec';

export const DEFAULT_MODEL = fileURLToPath(new URL('../../models/defects/export/megnet-sparse.json', import.meta.url));

export class PredictInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PredictInputError';
  }
}

export function loadModel(manifestPath: string): DefectModel {
  if (!existsSync(manifestPath)) throw new PredictInputError(`no model at ${manifestPath} (train and export one: see models/defects/README.md)`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as ModelManifest;
  const bin = readFileSync(manifestPath.replace(/\.json$/, '.bin'));
  return new DefectModel(manifest, bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
}

function specsOf(arg: string): string[] {
  if (!existsSync(arg)) return [arg];
  let j: unknown;
  try {
    j = JSON.parse(readFileSync(arg, 'utf8'));
  } catch {
    // A structure file (CIF, POSCAR, …) is the likely mistake: say what predict wants.
    throw new PredictInputError(`${arg}: not JSON; predict takes a defect spec such as MoS2:5x5:V@1 or a JSON list of them (for a structure file, use \`latticelab properties\`)`);
  }
  const list = Array.isArray(j) ? j : [j];
  return list.map((x, i) => {
    const spec = typeof x === 'string' ? x : (x as { spec?: unknown })?.spec;
    if (typeof spec !== 'string') throw new PredictInputError(`${arg}: entry ${i} has no "spec" string`);
    return spec;
  });
}

export function predictJson(arg: string, modelPath: string): unknown[] {
  const model = loadModel(modelPath);
  return specsOf(arg).map((text) => {
    let editor;
    try {
      editor = parseDefectSpec(text);
    } catch (e) {
      if (e instanceof SpecError) throw new PredictInputError(e.message);
      throw e;
    }
    const p = model.predict(editor.config());
    return {
      spec: formatDefectSpec(editor),
      sites: editor.structure().numSites,
      formationEnergyPerSite_eV: Number(p.formationEnergy.toFixed(4)),
      gap_eV: Number(p.gap.toFixed(4)),
      // The ensemble's spread (std over its members): a rough uncertainty.
      ...(p.spread ? { formationEnergySpread_eV: Number(p.spread.formationEnergy.toFixed(4)), gapSpread_eV: Number(p.spread.gap.toFixed(4)) } : {}),
      outOfDomain: p.outOfDomain,
      model: {
        name: model.manifest.name,
        trainedOn: model.manifest.training.structures,
        members: p.members,
        ...(model.manifest.training.pretrained ? { pretrainedOn: model.manifest.training.pretrained } : {}),
        // How the members differ (seeds only, or also pretraining), worded as in the prediction panel.
        ...(p.members > 1 ? { membersDiffer: describeMembers(model.manifest.training) } : {}),
      },
      ms: Number(p.ms.toFixed(3)),
    };
  });
}
