/**
 * The defect level diagram (issue 28): where the configuration's predicted
 * HOMO and LUMO sit against the pristine host's band edges.
 *
 * Every energy is relative to the valence band maximum (VBM) of the pristine
 * supercell of the same size, as the model's labels are (2DMD's
 * normalisation, Huang et al., npj 2D Mater Appl 7, 6 (2023);
 * models/defects/train.py `level`). The conduction band minimum (CBM) is the
 * pristine supercell's Γ-point gap, which depends on the supercell through
 * zone folding (MoS2 3×3 folds K onto Γ), so it comes per supercell from the
 * manifest (`hostBandEdges`) and is missing for sizes never computed.
 */
import type { DefectPrediction } from './predict';
import type { ModelManifest } from './model-file';

/** A predicted level with the members' spread (eV; 0 for a single model). */
export interface Level {
  value: number;
  spread: number;
  /** Where it sits: inside the host's gap, resonant with a band, or unknown without the CBM. */
  where: 'in the gap' | 'below the VBM' | 'above the CBM' | 'above the VBM';
}

export interface LevelDiagram {
  /** The supercell whose band edges frame the levels ("5x5"). */
  supercell: string;
  /** Host CBM above its VBM (eV): the pristine supercell's Γ gap; null where it was never computed. */
  cbm: number | null;
  homo: Level;
  lumo: Level;
  /** LUMO − HOMO of the predicted levels; the gap output is a separate model head and may differ by up to the models' errors. */
  levelGap: number;
}

function place(value: number, cbm: number | null): Level['where'] {
  if (value < 0) return 'below the VBM';
  if (cbm === null) return 'above the VBM';
  return value > cbm ? 'above the CBM' : 'in the gap';
}

/** The supercell key of the manifest's band-edge table for an n_a × n_b editor supercell. */
export function supercellKey(na: number, nb: number = na): string {
  return `${na}x${nb}`;
}

/**
 * The diagram for a prediction of `host` in an n_a × n_b supercell, or null
 * when the model has no level outputs.
 */
export function levelDiagram(
  prediction: Pick<DefectPrediction, 'levels'>,
  edges: ModelManifest['hostBandEdges'],
  host: string,
  na: number,
  nb: number = na,
): LevelDiagram | null {
  const lv = prediction.levels;
  if (!lv) return null;
  const supercell = supercellKey(na, nb);
  const cbm = edges?.[host]?.[supercell]?.gap ?? null;
  return {
    supercell,
    cbm,
    homo: { value: lv.homo, spread: lv.spread?.homo ?? 0, where: place(lv.homo, cbm) },
    lumo: { value: lv.lumo, spread: lv.spread?.lumo ?? 0, where: place(lv.lumo, cbm) },
    levelGap: lv.lumo - lv.homo,
  };
}

/** The supercells of `host` whose band edges are known, e.g. ["3x3", "4x4", "5x5"] (for the "not computed" message). */
export function knownSupercells(edges: ModelManifest['hostBandEdges'], host: string): string[] {
  return Object.keys(edges?.[host] ?? {}).sort((a, b) => parseInt(a) - parseInt(b));
}
