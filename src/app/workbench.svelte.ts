/**
 * What the user is working on, across the app's three modes: which mode is
 * on (the library, the defect editor, generation), the structure the 3D
 * view shows and its symmetry, how it is drawn, the picked atom and a
 * measurement in progress, the bond rules, and the actions on the shown
 * structure (save, download, PNG) and on the whole scene (its link, the
 * presentation tour). App.svelte lays it out; the modes' own state lives in
 * AppState (library), DefectSession and GenerateSession.
 *
 * No markup here: the 3D view is reached through `ViewerHandle`, so this
 * class runs in Node with a fake view (src/tests/workbench.svelte.test.ts).
 */
import { tick, untrack } from 'svelte';
import type { BondRules } from '../core/bonds';
import { formatDefectSpec } from '../core/defects/spec';
import { safeFileName } from '../core/formats/archive';
import { FORMAT_EXTENSION, type FormatId, writeStructures } from '../core/formats/index';
import { GENERATED_SYMPREC } from '../core/generate/to-structure';
import type { Vec3 } from '../core/math3';
import type { SharedScene } from '../core/share-link';
import type { Structure } from '../core/structure';
import type { SymmetryInfo } from '../core/symmetry';
import type { AttractActions } from './attract-loop';
import { loadBondRules, saveBondRules } from './bond-rules-store';
import type { PickedAtom, PngOptions, ViewOptions } from './components/CrystalViewer.svelte';
import type { DefectSession } from './defects.svelte';
import { download } from './download';
import type { GenerateSession } from './generate/session.svelte';
import { SceneLink } from './scene-link.svelte';
import type { AppState } from './store.svelte';

/** 'library': browse and import; 'defects': the defect editor with live predictions; 'generate': crystals from the CDVAE. */
export type Mode = 'library' | 'defects' | 'generate';

/** What the workbench asks of the 3D view (CrystalViewer's exported functions). */
export interface ViewerHandle {
  whenPainted(): Promise<void>;
  png(opts?: PngOptions): string | null;
  cameraView(): number[] | null;
  setCameraView(view: number[]): void;
  resetCamera(): void;
  viewAlong(uvw: Vec3): void;
}

export interface RenderInfo {
  atoms: number;
  ghosts: number;
  bonds: number;
  ms: number;
}

export class Workbench {
  mode = $state<Mode>('library');
  /** The structure in the 3D view: the library's, the edited defect supercell, or a generated crystal (or a denoising frame). */
  shown: Structure | null = $derived.by(() =>
    this.mode === 'defects' ? this.defects.structure : this.mode === 'generate' ? this.generator.structure : this.app.structure,
  );
  /**
   * The library analyses a structure when it opens it; the defect supercell
   * and generated crystals are analysed here, when shown. Denoising frames
   * are noise mid-run, so they get none.
   */
  shownSymmetry: SymmetryInfo | null = $derived.by(() => {
    if (this.mode === 'library') return this.app.symmetry;
    if (this.mode === 'generate' && this.generator.frame) return null;
    if (!this.shown) return null;
    return this.app.safeSymmetry(this.shown, this.mode === 'generate' ? GENERATED_SYMPREC : undefined);
  });

  options: ViewOptions = $state({ style: 'ball-and-stick', repeat: [1, 1, 1], labels: false, cell: true, axes: true, ghosts: true, polyhedra: false });
  renderInfo: RenderInfo | null = $state(null);
  /** The user's bond rules per element pair, kept in this browser. */
  bondRules: BondRules = $state.raw(loadBondRules());

  /**
   * The picked atom belongs to the structure it was picked in: when another
   * structure is shown, `picked` is null in the same update, so no panel or
   * view ever reads a site index of one structure in another (opening a
   * smaller crystal after a pick used to crash the view).
   */
  private pickedAt = $state.raw<{ atom: PickedAtom; of: Structure } | null>(null);
  picked: PickedAtom | null = $derived(this.pickedAt && this.pickedAt.of === this.shown ? this.pickedAt.atom : null);
  /** Measure mode: the atoms clicked, tied (like the pick) to the structure they were clicked in. */
  measuring = $state(false);
  private measureAt = $state.raw<{ picks: PickedAtom[]; of: Structure } | null>(null);
  measured: PickedAtom[] = $derived(this.measuring && this.measureAt && this.measureAt.of === this.shown ? this.measureAt.picks : []);

  /** The 3D view, once mounted. */
  viewer: ViewerHandle | undefined = $state();
  /** The scene in the URL's fragment (app/scene-link.svelte.ts). */
  readonly link: SceneLink;

  constructor(
    readonly app: AppState,
    readonly defects: DefectSession,
    readonly generator: GenerateSession,
    link?: SceneLink,
  ) {
    this.link = link ?? new SceneLink();
  }

  setMode(m: Mode): void {
    this.mode = m;
    this.pickedAt = null;
    if (m === 'defects' && !this.defects.model && !this.defects.modelError) void this.defects.loadModel();
    if (m === 'generate' && !this.generator.opened && !this.generator.loading) void this.generator.open();
  }

  /** A click on the view: a defect edit in the editor, else a pick (and a measurement point while measuring). */
  onPick(p: PickedAtom | null, at: number): void {
    if (this.mode === 'defects' && p) {
      this.defects.apply(p.site, at);
      this.pickedAt = null;
      return;
    }
    const shown = this.shown;
    if (this.measuring && p && shown) {
      // A fourth click, or a click in another structure, starts a new measurement.
      const keep = this.measureAt && this.measureAt.of === shown && this.measureAt.picks.length < 3 ? this.measureAt.picks : [];
      this.measureAt = { picks: [...keep, p], of: shown };
    }
    this.pickedAt = p && shown ? { atom: p, of: shown } : null;
  }

  clearMeasurement(): void {
    this.measureAt = null;
  }

  setBondRules(rules: BondRules): void {
    this.bondRules = rules;
    saveBondRules(rules);
  }

  /**
   * The effects that tie the parts together; call once from the component
   * that owns the workbench (or inside `$effect.root` in a test).
   */
  connect(): void {
    // A new structure or mode starts unpicked and unrepeated.
    $effect(() => {
      void this.app.structure;
      void this.mode;
      this.pickedAt = null;
      this.options.repeat = [1, 1, 1];
    });
    // Click-to-pixels of a defect edit: the view says when the frame showing it is drawn.
    $effect(() => {
      const viewer = this.viewer;
      if (this.mode !== 'defects' || !viewer) return;
      void this.defects.version;
      const at = untrack(() => this.defects.editAt);
      if (at) void viewer.whenPainted().then(() => this.defects.markShown(at));
    });
    // The scene goes into the URL's fragment; camera moves re-run this (read first, so whatever sync() returns).
    $effect(() => {
      void this.link.cameraMoves;
      return this.link.sync(this.sceneNow(), () => untrack(() => this.viewer?.cameraView() ?? null));
    });
  }

  /** The scene as a link records it (the camera apart). */
  sceneNow(): SharedScene {
    const o = this.options;
    return {
      mode: this.mode,
      builtin: this.mode === 'library' ? builtinIdOf(this.app.structure) : undefined,
      defects: this.mode === 'defects' ? (void this.defects.version, formatDefectSpec(this.defects.editor)) : undefined,
      repeat: [...o.repeat] as [number, number, number],
      style: o.style,
      cell: o.cell ? undefined : false,
      axes: o.axes ? undefined : false,
      labels: o.labels ? true : undefined,
      ghosts: o.ghosts ? undefined : false,
      polyhedra: o.polyhedra ? true : undefined,
    };
  }

  /** Opens the scene a link describes (`#…`); what cannot be read is said, not thrown. */
  restoreFromLink(fragment: string): Promise<void> {
    return this.link.restore(
      fragment,
      (scene) => this.applyScene(scene),
      (m) => this.app.notify('warning', m),
    );
  }

  async applyScene(scene: SharedScene): Promise<void> {
    if (scene.builtin && !(await this.app.openBuiltin(scene.builtin)))
      this.app.notify('warning', `The built-in structure '${scene.builtin}' is not in the library.`);
    this.setMode(scene.mode);
    if (scene.defects) {
      try {
        this.defects.loadSpec(scene.defects);
      } catch (e) {
        this.app.notify('warning', `The link's defects were ignored: ${(e as Error).message}.`);
      }
    }
    // After the effects that reset a newly opened structure's options have run.
    await tick();
    if (scene.repeat) this.options.repeat = scene.repeat;
    if (scene.style) this.options.style = scene.style;
    for (const k of ['cell', 'axes', 'labels', 'ghosts', 'polyhedra'] as const) if (scene[k] !== undefined) this.options[k] = scene[k];
    await tick();
    if (scene.view) this.viewer?.setCameraView(scene.view);
  }

  /** The tour's steps for presentation mode (app/attract-loop.ts). */
  attractActions(): AttractActions {
    return {
      showBuiltin: async (id) => {
        this.setMode('library');
        await this.app.openBuiltin(id);
      },
      startDefects: (host) => {
        this.setMode('defects');
        const d = this.defects;
        if (d.editor.state.host !== host || d.editor.state.size !== 5) d.setHost(host, 5);
        d.clear();
      },
      placeDefect: (site, element) => {
        const d = this.defects;
        d.tool = element ? 'substitute' : 'vacancy';
        if (element) d.element = element;
        d.applySite(site);
      },
      generate: async (seed) => {
        this.setMode('generate');
        const g = this.generator;
        g.n = 4;
        g.seed = seed;
        g.stepsPerLevel = 2;
        await g.generate();
      },
    };
  }

  // -- saving and downloading ------------------------------------------------

  /** The structure on screen as one file: the edited defect supercell, a generated crystal, a primitive cell included. */
  exportShown(format: FormatId): void {
    const shown = this.shown;
    if (!shown) return;
    try {
      const text = writeStructures([shown], format);
      download(text, `${safeFileName(shown.title || 'structure')}.${FORMAT_EXTENSION[format]}`, format === 'cif' ? 'chemical/x-cif' : 'text/plain');
    } catch (e) {
      this.app.notify('error', `Could not write ${format.toUpperCase()}: ${(e as Error).message}`);
    }
  }

  exportPng(opts: PngOptions): void {
    const uri = this.viewer?.png(opts);
    if (!uri) return;
    const bytes = Uint8Array.from(atob(uri.split(',')[1]), (c) => c.charCodeAt(0));
    download(bytes, `${safeFileName(this.shown?.title ?? 'structure')}.png`, 'image/png');
  }

  async saveDefect(): Promise<void> {
    await this.app.saveStructures('Defect configurations', [this.defects.snapshot()], 'defect editor');
  }

  private generatedChoice(all: boolean) {
    const g = this.generator;
    return all ? g.results : g.results.slice(g.selected, g.selected + 1);
  }

  async saveGenerated(all: boolean): Promise<void> {
    const chosen = this.generatedChoice(all);
    const source = `CDVAE ${this.generator.manifest?.dataset ?? ''}`.trim();
    await this.app.saveStructures(
      'Generated crystals',
      chosen.map((r) => r.structure),
      source,
      'crystal',
    );
  }

  exportGenerated(all: boolean): void {
    const chosen = this.generatedChoice(all);
    if (!chosen.length) return;
    const g = this.generator;
    const name = all ? `generated-${g.manifest?.dataset ?? 'cdvae'}-seed${g.seed}` : safeFileName(chosen[0].structure.title);
    download(
      writeStructures(
        chosen.map((r) => r.structure),
        'cif',
      ),
      `${name}.cif`,
      'chemical/x-cif',
    );
  }
}

function builtinIdOf(s: Structure | null): string | undefined {
  const id = s?.properties.builtin;
  return typeof id === 'string' ? id : undefined;
}
