import { MAX_FILE_BYTES, ParseError, readStructures } from '../core/formats/index';
import { describeParts, importedName } from '../core/formats/import-name';
import type { Structure } from '../core/structure';
import { analyzeSymmetry, type SymmetryInfo, whenSymmetryReady } from '../core/symmetry';
import { BUILTINS } from '../core/library/builtins';
import { BUILTIN_DATASET_ID, Library } from '../db/library';
import { makeRecord, recordStructure } from '../db/records';
import type { DatasetRecord, StructureRecord } from '../db/schema';
import { matchesQuery, type SortKey, sortRecords } from '../db/search';
import { describeStorageError } from '../db/errors';

/**
 * Application state: which dataset and structure are open, what the user
 * searched for, messages. Components read these runes and call the methods;
 * all storage goes through Library, all parsing through the core.
 */

/** Bump when the built-in library changes so existing users get the new one. */
export const BUILTIN_SEED_VERSION = 1;

export interface Message {
  id: number;
  kind: 'error' | 'info' | 'warning';
  text: string;
  /** Optional action button, e.g. Undo. */
  action?: { label: string; run: () => void };
}

export interface ImportProgress {
  done: number;
  total: number;
}

let nextMessageId = 1;

export class AppState {
  library: Library | null = $state(null);
  datasets: DatasetRecord[] = $state([]);
  datasetId: string = $state(BUILTIN_DATASET_ID);
  records: StructureRecord[] = $state([]);
  selectedId: string | null = $state(null);
  structure: Structure | null = $state(null);
  symmetry: SymmetryInfo | null = $state(null);
  query = $state('');
  sortKey: SortKey = $state('name');
  sortDescending = $state(false);
  messages: Message[] = $state([]);
  importing: ImportProgress | null = $state(null);
  startupError: string | null = $state(null);

  visible: StructureRecord[] = $derived(
    sortRecords(
      this.records.filter((r) => matchesQuery(r, this.query)),
      this.sortKey,
      this.sortDescending,
    ),
  );

  dataset: DatasetRecord | undefined = $derived(this.datasets.find((d) => d.id === this.datasetId));
  selected: StructureRecord | undefined = $derived(this.records.find((r) => r.id === this.selectedId));

  async start(): Promise<void> {
    try {
      // The built-in records carry their space group: seed them once moyo's WebAssembly is there.
      await whenSymmetryReady().catch(() => undefined);
      this.library = await Library.open({
        onBlocked: () => this.notify('warning', 'Lattice Lab is open in another tab with an older version: close it to finish upgrading.'),
        onVersionChange: () => this.notify('warning', 'A newer Lattice Lab opened in another tab: reload this one.'),
      });
      await this.library.seedBuiltins(BUILTIN_SEED_VERSION, () =>
        BUILTINS.map((entry) => {
          const s = entry.build();
          return makeRecord(s, BUILTIN_DATASET_ID, 'built-in', this.safeSymmetry(s), entry.name);
        }),
      );
      await this.refreshDatasets();
      const remembered = localStorage.getItem('latticelab.dataset');
      await this.openDataset(this.datasets.some((d) => d.id === remembered) ? remembered! : BUILTIN_DATASET_ID);
      if (!this.selectedId && this.visible.length) await this.open(this.visible[0].id);
    } catch (e) {
      this.startupError = describeStorageError(e, 'start').message;
    }
  }

  notify(kind: Message['kind'], text: string, action?: Message['action']): void {
    const m: Message = { id: nextMessageId++, kind, text, action };
    this.messages = [...this.messages, m];
    // Errors stay until dismissed; the rest fade after a while.
    if (kind !== 'error') setTimeout(() => this.dismiss(m.id), action ? 10000 : 6000);
  }

  dismiss(id: number): void {
    this.messages = this.messages.filter((m) => m.id !== id);
  }

  safeSymmetry(s: Structure, symprec?: number): SymmetryInfo | null {
    try {
      return analyzeSymmetry(s, symprec);
    } catch {
      return null;
    }
  }

  async refreshDatasets(): Promise<void> {
    if (this.library) this.datasets = await this.library.listDatasets();
  }

  async openDataset(id: string): Promise<void> {
    if (!this.library) return;
    this.datasetId = id;
    localStorage.setItem('latticelab.dataset', id);
    this.records = await this.library.listStructures(id);
  }

  async open(id: string): Promise<void> {
    const r = this.records.find((x) => x.id === id) ?? (await this.library?.getStructure(id));
    if (!r) return;
    try {
      const s = recordStructure(r);
      this.selectedId = id;
      this.structure = s;
      this.symmetry = this.safeSymmetry(s);
    } catch (e) {
      this.notify('error', `Could not open ${r.name}: ${(e as Error).message}`);
    }
  }

  /** Shows another cell of the open structure (primitive, conventional); the record in the list stays selected. */
  showCell(s: Structure): void {
    this.structure = s;
    this.symmetry = this.safeSymmetry(s);
  }

  /** Opens a built-in structure by its id (a shared link), switching to the built-in library. False if there is none. */
  async openBuiltin(builtinId: string): Promise<boolean> {
    if (this.datasetId !== BUILTIN_DATASET_ID) await this.openDataset(BUILTIN_DATASET_ID);
    const r = this.records.find((x) => (x.data.properties as Record<string, unknown> | undefined)?.builtin === builtinId);
    if (!r) return false;
    await this.open(r.id);
    return true;
  }

  /** Imports files into the open dataset (or a new one if the built-in library is open). All or nothing. */
  async importFiles(files: File[]): Promise<boolean> {
    if (!this.library || files.length === 0) return false;
    this.importing = { done: 0, total: files.length };
    try {
      const parsed: { structure: Structure; source: string; name: string }[] = [];
      const parts: string[] = [];
      for (const file of files) {
        // Refuse absurd sizes before reading them into memory.
        if (file.size > MAX_FILE_BYTES)
          throw new ParseError(file.name, undefined, `file is ${(file.size / 1024 / 1024).toFixed(0)} MB; the limit is ${MAX_FILE_BYTES / 1024 / 1024} MB`);
        const text = await file.text();
        const read = readStructures(file.name, text);
        read.forEach((structure, k) => {
          // The structure's title is its name, so the list and the panel agree.
          const name = importedName(file.name, structure, k, read.length);
          parsed.push({ structure: structure.with({ title: name }), source: file.name, name });
        });
        const part = describeParts(file.name, read);
        if (part) parts.push(part);
        this.importing = { done: this.importing.done + 1, total: files.length };
        // Yield so the progress bar paints during big batches.
        await new Promise((r) => setTimeout(r, 0));
      }
      let target = this.dataset;
      if (!target || target.builtin) {
        target = this.datasets.find((d) => !d.builtin && d.name === 'My structures') ?? (await this.library.createDataset('My structures'));
      }
      const records = parsed.map(({ structure, source, name }) => makeRecord(structure, target.id, source, this.safeSymmetry(structure), name));
      await this.library.addStructures(target.id, records);
      await this.refreshDatasets();
      await this.openDataset(target.id);
      await this.open(records[0].id);
      const warnings = parsed.flatMap(({ structure, source }) => structure.warnings.map((w) => `${source}: ${w}`));
      const from = parts.length ? ` (${parts.slice(0, 3).join('; ')}${parts.length > 3 ? '; …' : ''})` : '';
      this.notify('info', `Imported ${records.length} structure${records.length === 1 ? '' : 's'}${from} into “${target.name}”.`);
      for (const w of warnings.slice(0, 5)) this.notify('warning', w);
      return true;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.notify('error', `Import failed, nothing was imported. ${msg}`);
      return false;
    } finally {
      this.importing = null;
    }
  }

  /**
   * Saves structures made in the app (e.g. defect configurations with their
   * predictions in `properties`) into the named dataset, creating it if
   * needed. All or nothing, like an import; the list stays where it is.
   */
  async saveStructures(datasetName: string, structures: Structure[], source: string, noun = 'configuration'): Promise<boolean> {
    if (!this.library || structures.length === 0) return false;
    let saved = false;
    await this.guard(`save the ${noun}`, async () => {
      const target = this.datasets.find((d) => !d.builtin && d.name === datasetName) ?? (await this.library!.createDataset(datasetName));
      const records = structures.map((st) => makeRecord(st, target.id, source, this.safeSymmetry(st)));
      await this.library!.addStructures(target.id, records);
      await this.refreshDatasets();
      if (this.datasetId === target.id) this.records = await this.library!.listStructures(target.id);
      this.notify('info', `Saved ${records.length} ${noun}${records.length === 1 ? '' : 's'} into “${target.name}”.`);
      saved = true;
    });
    return saved;
  }

  async createDataset(name: string): Promise<void> {
    await this.guard('create the dataset', async () => {
      const d = await this.library!.createDataset(name);
      await this.refreshDatasets();
      await this.openDataset(d.id);
    });
  }

  async renameDataset(name: string): Promise<void> {
    await this.guard('rename the dataset', async () => {
      await this.library!.renameDataset(this.datasetId, name);
      await this.refreshDatasets();
    });
  }

  async deleteDataset(): Promise<void> {
    await this.guard('delete the dataset', async () => {
      await this.library!.deleteDataset(this.datasetId);
      await this.refreshDatasets();
      await this.openDataset(BUILTIN_DATASET_ID);
    });
  }

  async renameStructure(id: string, name: string): Promise<void> {
    await this.guard('rename the structure', async () => {
      await this.library!.renameStructure(id, name);
      this.records = await this.library!.listStructures(this.datasetId);
    });
  }

  /** Deletes with an Undo button in the message. */
  async deleteStructure(id: string): Promise<void> {
    await this.guard('delete the structure', async () => {
      const removed = await this.library!.deleteStructure(id);
      this.records = await this.library!.listStructures(this.datasetId);
      if (this.selectedId === id) {
        this.selectedId = null;
        this.structure = null;
      }
      if (removed) {
        this.notify('info', `Deleted ${removed.name}.`, {
          label: 'Undo',
          run: () =>
            void this.guard('undo the delete', async () => {
              await this.library!.restoreStructure(removed);
              if (this.datasetId === removed.datasetId) this.records = await this.library!.listStructures(this.datasetId);
            }),
        });
      }
    });
  }

  private async guard(action: string, body: () => Promise<void>): Promise<void> {
    if (!this.library) return;
    try {
      await body();
    } catch (e) {
      this.notify('error', describeStorageError(e, action).message);
    }
  }
}
