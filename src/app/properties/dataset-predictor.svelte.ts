/**
 * "Predict all": runs the property model over the open dataset in the
 * property worker, batch after batch, saving each batch's predictions with
 * its records as it arrives (so Cancel, a closed tab or a full disk keeps
 * what was already done). Structures the model cannot read (an element
 * beyond its table, an empty cell) are skipped and counted.
 */
import manifest from '../../../models/properties/export/megnet-properties.json';
import { elementBySymbol } from '../../core/elements';
import type { Structure } from '../../core/structure';
import { describeStorageError } from '../../db/errors';
import { summarise, withPrediction } from '../../db/predictions';
import { recordStructure } from '../../db/records';
import type { StructureRecord } from '../../db/schema';
import type { AppState } from '../store.svelte';
import { type BatchResult, propertyWorker } from './client.svelte';
import { BACKEND_SHORT } from './protocol';

/** Structures per worker batch: large enough to amortise a GPU submission, small enough for progress every second or so. */
export const DATASET_BATCH = 16;
/** Larger cells are skipped: one graph of 5,000 sites already takes seconds on the CPU. */
export const MAX_SITES = 5000;
/**
 * The list shows saved predictions at most this often. Each refresh
 * re-filters, re-sorts and re-lays out the whole dataset's list; done after
 * every batch of 16 it was most of the page's work: 2,000 structures took
 * 26 s, of which the model ~5 s (bench/RESULTS.md, "Predict all").
 */
export const LIST_REFRESH_MS = 500;

export const MODEL_NAME = (manifest as { name: string }).name;

export class DatasetPredictor {
  progress = $state<{ done: number; total: number } | null>(null);
  last = $state<(Pick<BatchResult, 'backend' | 'why' | 'msPerStructure' | 'cancelled'> & { count: number; skipped: number }) | null>(null);
  private requestId: number | null = null;

  constructor(private readonly app: AppState) {}

  /** Records of the open dataset without a prediction from the current model. */
  get pending(): StructureRecord[] {
    return this.app.records.filter((r) => r.predicted?.model !== MODEL_NAME);
  }

  get running(): boolean {
    return this.progress !== null;
  }

  async run(): Promise<void> {
    const library = this.app.library;
    if (!library || this.running) return;
    const datasetId = this.app.datasetId;
    const todo: { record: StructureRecord; structure: Structure }[] = [];
    let skipped = 0;
    for (const record of this.pending) {
      try {
        const structure = recordStructure(record);
        if (structure.numSites === 0 || structure.numSites > MAX_SITES || structure.species.some((x) => !elementBySymbol(x))) skipped++;
        else todo.push({ record, structure });
      } catch {
        skipped++;
      }
    }
    if (!todo.length) {
      this.app.notify(
        'info',
        skipped
          ? `No structure here can be predicted (${skipped} skipped: empty, over ${MAX_SITES} sites or unknown elements).`
          : 'Every structure here already has a prediction.',
      );
      return;
    }
    this.progress = { done: 0, total: todo.length };
    let saved = 0;
    let saving: Promise<void> = Promise.resolve();
    let storageError: string | null = null;
    // Saved records not yet in the list, and when the list last took some (LIST_REFRESH_MS).
    const unshown = new Map<string, StructureRecord>();
    let shownAt = performance.now();
    const showSaved = (force: boolean) => {
      if (!unshown.size || (!force && performance.now() - shownAt < LIST_REFRESH_MS)) return;
      if (this.app.datasetId === datasetId) this.app.records = this.app.records.map((r) => unshown.get(r.id) ?? r);
      unshown.clear();
      shownAt = performance.now();
    };
    const { id, result } = propertyWorker.predict(
      todo.map((t) => t.structure),
      {
        batch: DATASET_BATCH,
        onProgress: (p, predictions) => {
          const at = p.done - predictions.length;
          const now = Date.now();
          // Records in app.records are reactive proxies, which IndexedDB cannot clone: store plain copies.
          const updated = predictions.map((pr, k) => withPrediction($state.snapshot(todo[at + k].record) as StructureRecord, summarise(pr, MODEL_NAME, now)));
          this.progress = { done: p.done, total: p.total };
          // Saves in order, one transaction per batch; the list shows them as they land, at most every LIST_REFRESH_MS.
          saving = saving.then(async () => {
            if (storageError) return;
            try {
              saved += await library.updateStructures(updated);
              for (const r of updated) unshown.set(r.id, r);
              showSaved(false);
            } catch (e) {
              storageError = describeStorageError(e, 'save the predictions').message;
              this.cancel();
            }
          });
        },
      },
    );
    this.requestId = id;
    try {
      const r = await result;
      await saving;
      showSaved(true);
      this.last = { backend: r.backend, why: r.why, msPerStructure: r.msPerStructure, cancelled: r.cancelled, count: saved, skipped };
      if (storageError) this.app.notify('error', `${storageError} ${saved} prediction${saved === 1 ? ' was' : 's were'} saved before that.`);
      else
        this.app.notify(
          'info',
          `${r.cancelled ? 'Cancelled: ' : ''}Predicted ${saved} structure${saved === 1 ? '' : 's'} (${BACKEND_SHORT[r.backend]}, ${r.msPerStructure.toFixed(1)} ms each)${skipped ? `; ${skipped} skipped` : ''}.`,
        );
    } catch (e) {
      await saving;
      showSaved(true);
      this.app.notify('error', `Prediction stopped: ${(e as Error).message}. ${saved} prediction${saved === 1 ? ' was' : 's were'} saved.`);
    } finally {
      this.progress = null;
      this.requestId = null;
    }
  }

  cancel(): void {
    if (this.requestId !== null) propertyWorker.cancel(this.requestId);
  }
}
