/**
 * The defect editor's reactive state for the UI: wraps the DOM-free
 * DefectEditor, applies the current tool to picked atoms and re-predicts
 * after every edit.
 */
import { formationShift, hostRange, potentialShifts, removedAtoms } from '../core/defects/chemical-potentials';
import { type DefectRow, defectTable } from '../core/defects/defect-table';
import { DefectEditor, defectConfig } from '../core/defects/editor';
import { levelDiagram } from '../core/defects/levels';
import type { DefectModel, DefectPrediction } from '../core/defects/predict';
import type { HostName } from '../core/defects/representation';
import { formatDefectSpec, parseDefectSpec } from '../core/defects/spec';
import type { Vec3 } from '../core/math3';
import type { Structure } from '../core/structure';
import { loadDefectModel } from './defect-model';

export type Tool = 'vacancy' | 'substitute';

/** A defect the 3D view marks. */
export interface DefectMarker {
  at: Vec3;
  kind: 'vacancy' | 'substitution';
}

export class DefectSession {
  readonly editor = new DefectEditor({ host: 'MoS2', size: 5, edits: [] });
  /** Bumped on every edit: everything below derives from it. */
  version = $state(0);
  tool: Tool = $state('vacancy');
  element = $state('W');
  model: DefectModel | null = $state(null);
  modelError: string | null = $state(null);
  prediction: DefectPrediction | null = $state(null);
  predictionError: string | null = $state(null);
  /**
   * When the edit being shown was asked for (performance.now() time base: the
   * click's release, or the key or button press), so the view can report when
   * its pixels are up. Not reactive: it only labels the edit.
   */
  editAt = 0;
  /** Click-to-pixels of the last edit (ms): input to the frame that shows it, model and view included. Null until drawn. */
  shownMs: number | null = $state(null);

  structure: Structure = $derived.by(() => {
    void this.version;
    return this.editor.structure();
  });

  /** Every defect for the view to mark (Å, wrapped as the view draws the atoms): where an atom was removed, and each substituted atom. */
  markers: DefectMarker[] = $derived.by(() => {
    void this.version;
    const p = this.editor.pristine().wrapped();
    return this.editor.state.edits.map(([site, z]) => ({ at: p.lattice.fracToCart(p.frac[site]), kind: z === 0 ? 'vacancy' : 'substitution' }));
  });

  /** The configuration's defects named (V_S, W_Mo) with their nearest other defect (core/defects/defect-table.ts). */
  table: DefectRow[] = $derived.by(() => {
    void this.version;
    return defectTable(this.editor.pristine(), this.editor.state.edits);
  });

  /** The host on screen and its pristine supercell, for the panels (the editor itself is not reactive). */
  host = $derived.by(() => {
    void this.version;
    return this.editor.state.host;
  });

  pristine = $derived.by(() => {
    void this.version;
    return this.editor.pristine();
  });

  edits = $derived.by(() => {
    void this.version;
    return this.editor.state.edits;
  });

  /** The level diagram of the current prediction (core/defects/levels.ts); null without a prediction or level outputs. */
  levels = $derived.by(() => {
    const p = this.prediction;
    if (!p || !this.model) return null;
    const { host, size } = this.editor.state;
    return levelDiagram(p, this.model.manifest.hostBandEdges, host, size);
  });

  /**
   * The chalcogen's chemical potential relative to its elemental phase
   * (mu_X - mu_X^0, eV) for the formation energies at other growth
   * conditions (core/defects/chemical-potentials.ts); 0 = X-rich.
   */
  muDelta = $state(0);

  /** The host's allowed range, or null where it has not been computed (NO_RANGE says why). */
  muRange = $derived.by(() => {
    void this.version;
    return hostRange(this.editor.state.host);
  });

  /** muDelta within the host's range (the slider's grid reaches just past the poor limit). */
  muClamped = $derived(this.muRange ? Math.min(this.muRange.max, Math.max(this.muRange.min, this.muDelta)) : 0);

  /** mu_i - mu_ref_i of the host's elements at muDelta; null without a range or without the model's reference potentials. */
  muShifts = $derived.by(() => {
    const ref = this.model?.manifest.referencePotentials?.mu;
    if (!this.muRange || !ref) return null;
    return potentialShifts(this.muRange, this.muClamped, ref);
  });

  /** E_f per defect site of the configuration at muDelta (eV): the prediction moved by sum_i n_i (mu_i - mu_ref_i) / defects. */
  formationAtMu = $derived.by(() => {
    const p = this.prediction;
    const edits = this.editor.state.edits;
    if (!p || !this.muShifts || edits.length === 0) return null;
    return p.formationEnergy + formationShift(removedAtoms(this.editor.pristine(), edits), this.muShifts) / edits.length;
  });

  /**
   * For the plot of E_f against mu: each defect of the configuration
   * predicted alone, at both ends of the range (E_f is linear in between),
   * and the configuration per site.
   */
  muLines = $derived.by(() => {
    const range = this.muRange;
    const ref = this.model?.manifest.referencePotentials?.mu;
    const model = this.model;
    void this.version;
    const edits = this.editor.state.edits;
    if (!range || !ref || !model || edits.length === 0) return [];
    const pristine = this.editor.pristine();
    const at = (ef: number, removed: Record<string, number>, n: number) =>
      [range.min, range.max].map((d) => ef + formationShift(removed, potentialShifts(range, d, ref)) / n) as [number, number];
    const lines = this.table.map((d, k) => {
      const one = [edits[k]];
      const ef = model.predict(defectConfig(this.editor.state.host, pristine, one)).formationEnergy;
      return { name: d.name, site: d.site, ends: at(ef, removedAtoms(pristine, one), 1) };
    });
    if (edits.length > 1 && this.prediction)
      lines.push({ name: 'all, per site', site: -1, ends: at(this.prediction.formationEnergy, removedAtoms(pristine, edits), edits.length) });
    return lines;
  });

  async loadModel(): Promise<void> {
    try {
      this.model = await loadDefectModel();
      this.modelError = null;
      this.repredict();
    } catch (e) {
      this.modelError = (e as Error).message;
    }
  }

  private changed(at = performance.now()): void {
    this.editAt = at;
    this.shownMs = null;
    this.version++;
    this.repredict();
  }

  /** The view reports that the edit asked for at `at` is on screen. */
  markShown(at: number): void {
    if (at === this.editAt) this.shownMs = performance.now() - at;
  }

  private repredict(): void {
    this.predictionError = null;
    if (!this.model || this.editor.state.edits.length === 0) {
      this.prediction = null;
      return;
    }
    try {
      this.prediction = this.model.predict(this.editor.config());
    } catch (e) {
      this.prediction = null;
      this.predictionError = (e as Error).message;
    }
  }

  /** Applies the tool to atom `index` of the displayed (defective) structure; `at`: when the click happened. */
  apply(index: number, at = performance.now()): void {
    const site = this.editor.pristineIndex(index);
    if (site === undefined) return;
    this.editor.setSite(site, this.tool === 'vacancy' ? null : this.element);
    this.changed(at);
  }

  /** Applies the tool to a pristine site by number (keyboard access, scripts). */
  applySite(site: number): void {
    try {
      this.editor.setSite(site, this.tool === 'vacancy' ? null : this.element);
      this.predictionError = null;
    } catch (e) {
      this.predictionError = (e as Error).message;
      return;
    }
    this.changed();
  }

  /** Puts the pristine atom back on a site. */
  restore(site: number): void {
    this.editor.setSite(site, this.editor.pristine().species[site]);
    this.changed();
  }

  /** Opens a configuration written as HOST:NxN:EDITS (a shared link), undoably. Throws SpecError on a bad one. */
  loadSpec(spec: string): void {
    this.editor.load(parseDefectSpec(spec, { allowEmpty: true }));
    // Not a click: no click-to-pixels figure for it (0 = no edit to time).
    this.changed(0);
  }

  setHost(host: HostName, size: number): void {
    this.editor.setHost(host, size);
    this.changed();
  }

  undo(): void {
    this.editor.undo();
    this.changed();
  }

  redo(): void {
    this.editor.redo();
    this.changed();
  }

  clear(): void {
    this.editor.clear();
    this.changed();
  }

  get canUndo(): boolean {
    void this.version;
    return this.editor.canUndo;
  }

  get canRedo(): boolean {
    void this.version;
    return this.editor.canRedo;
  }

  /**
   * The current configuration with its prediction stored in `properties`, for
   * saving: flat scalar keys, so the extended-XYZ export keeps them.
   */
  snapshot(): Structure {
    const s = this.editor.structure();
    const p = this.prediction;
    const extra: Record<string, string | number> = { defect_spec: formatDefectSpec(this.editor) };
    if (p && this.model) {
      extra.predicted_formation_energy_per_site_eV = p.formationEnergy;
      extra.predicted_gap_eV = p.gap;
      if (p.levels) {
        extra.predicted_homo_vbm_eV = p.levels.homo;
        extra.predicted_lumo_vbm_eV = p.levels.lumo;
      }
      extra.prediction_model = this.model.manifest.name;
      if (p.spread) {
        extra.predicted_formation_energy_spread_eV = p.spread.formationEnergy;
        extra.predicted_gap_spread_eV = p.spread.gap;
        if (p.levels?.spread) {
          extra.predicted_homo_spread_eV = p.levels.spread.homo;
          extra.predicted_lumo_spread_eV = p.levels.spread.lumo;
        }
        extra.prediction_members = p.members;
      }
      if (p.outOfDomain.length) extra.prediction_warning = p.outOfDomain.join('; ');
    }
    // No $state proxies in what goes to IndexedDB (they cannot be cloned).
    return s.with({ properties: { builtin: s.properties.builtin, reference: s.properties.reference, ...extra } });
  }
}
