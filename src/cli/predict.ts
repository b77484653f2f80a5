/**
 * `latticelab predict SPEC|FILE [--model PATH]`: formation energy per defect
 * site and HOMO−LUMO gap from the project's sparse-representation MEGNet.
 * SPEC is `HOST:NxN:EDITS` (src/core/defects/spec.ts); FILE is a JSON file
 * holding such a spec (`{"spec": "..."}`) or a list of them, or a structure
 * file (CIF, POSCAR, extended XYZ, Lattice Lab JSON) of a defective n x n
 * supercell of a host, read in the editor's terms by
 * src/core/defects/match.ts (one prediction per structure in the file).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DefectEditor } from '../core/defects/editor';
import { matchDefectStructure } from '../core/defects/match';
import { describeMembers, type ModelManifest } from '../core/defects/model-file';
import { DefectModel, type DefectPrediction } from '../core/defects/predict';
import { levelDiagram } from '../core/defects/levels';
import { formatDefectSpec, parseDefectSpec, SpecError } from '../core/defects/spec';
import { detectFormat, readStructures } from '../core/formats/index';

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

/** One configuration to predict, and the structure file it was read from, if any. */
interface Input {
  editor: DefectEditor;
  file?: { path: string; structure?: number; maxDeviation: number };
}

function editorOf(spec: string): DefectEditor {
  try {
    return parseDefectSpec(spec);
  } catch (e) {
    if (e instanceof SpecError) throw new PredictInputError(e.message);
    throw e;
  }
}

/** A Lattice Lab structure file rather than a list of specs: objects with a lattice. */
function isStructureJson(j: unknown): boolean {
  const first = Array.isArray(j) ? j[0] : j;
  return typeof first === 'object' && first !== null && ('lattice' in first || (first as { format?: unknown }).format === 'latticelab-structure');
}

function inputsOf(arg: string): Input[] {
  if (!existsSync(arg)) return [{ editor: editorOf(arg) }];
  const text = readFileSync(arg, 'utf8');
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    j = undefined;
  }
  if (j !== undefined && !isStructureJson(j)) {
    const list = Array.isArray(j) ? j : [j];
    return list.map((x, i) => {
      const spec = typeof x === 'string' ? x : (x as { spec?: unknown })?.spec;
      if (typeof spec !== 'string') throw new PredictInputError(`${arg}: entry ${i} has no "spec" string`);
      return { editor: editorOf(spec) };
    });
  }
  if (!detectFormat(basename(arg), text)) {
    throw new PredictInputError(`${arg}: neither defect specs (JSON) nor a structure file (CIF, POSCAR/CONTCAR/.vasp, extended XYZ, Lattice Lab JSON)`);
  }
  // A malformed file is a ParseError naming the file and line (exit code 1 in main.ts).
  const structures = readStructures(basename(arg), text);
  return structures.map((s, i) => {
    const where = structures.length > 1 ? `${arg}: structure ${i + 1}` : arg;
    const r = matchDefectStructure(s);
    if (!r.ok) throw new PredictInputError(`${where}: ${r.reason}`);
    const { host, size, edits, maxDeviation } = r.match;
    if (!edits.length) {
      throw new PredictInputError(
        `${where}: a pristine ${host} ${size}x${size} supercell, no vacancies or substitutions; the model predicts the formation energy and gap of defects, so there is nothing to predict`,
      );
    }
    return { editor: new DefectEditor({ host, size, edits }), file: { path: arg, ...(structures.length > 1 ? { structure: i + 1 } : {}), maxDeviation } };
  });
}

/** The defect levels of a prediction as CLI JSON fields; none for a model file without level outputs. */
function levelsJson(p: DefectPrediction, model: DefectModel, host: string, size: number): Record<string, number | null> {
  const d = levelDiagram(p, model.manifest.hostBandEdges, host, size);
  if (!d) return {};
  const r = (x: number) => Number(x.toFixed(4));
  return {
    homoVbm_eV: r(d.homo.value),
    lumoVbm_eV: r(d.lumo.value),
    ...(p.levels?.spread ? { homoSpread_eV: r(d.homo.spread), lumoSpread_eV: r(d.lumo.spread) } : {}),
    hostGapGamma_eV: d.cbm === null ? null : r(d.cbm),
  };
}

/** Vanadium (Z = 23) cannot be written in a spec, where V is the vacancy (spec.ts). */
const VANADIUM = 23;

export function predictJson(arg: string, modelPath: string): unknown[] {
  const model = loadModel(modelPath);
  return inputsOf(arg).map(({ editor, file }) => {
    const p = model.predict(editor.config());
    const writable = !editor.state.edits.some(([, z]) => z === VANADIUM);
    return {
      // Where a structure file was read: which host and supercell it was matched to, and how closely.
      ...(file ? { file: file.path, ...(file.structure ? { structure: file.structure } : {}), host: editor.state.host, size: editor.state.size } : {}),
      spec: writable ? formatDefectSpec(editor) : null,
      ...(writable ? {} : { specNote: 'a vanadium substitution cannot be written as a spec, where V is the vacancy' }),
      ...(file ? { maxDeviation_A: Number(file.maxDeviation.toFixed(4)) } : {}),
      sites: editor.structure().numSites,
      formationEnergyPerSite_eV: Number(p.formationEnergy.toFixed(4)),
      gap_eV: Number(p.gap.toFixed(4)),
      // The ensemble's spread (std over its members): a rough uncertainty.
      ...(p.spread ? { formationEnergySpread_eV: Number(p.spread.formationEnergy.toFixed(4)), gapSpread_eV: Number(p.spread.gap.toFixed(4)) } : {}),
      // HOMO and LUMO relative to the pristine supercell's VBM, and that supercell's Γ gap where computed (core/defects/levels.ts).
      ...levelsJson(p, model, editor.state.host, editor.state.size),
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
