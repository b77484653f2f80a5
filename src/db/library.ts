import { type IDBPDatabase, type IDBPTransaction, openDB } from 'idb';
import { describeStorageError, StorageError } from './errors';
import { DB_NAME, DB_VERSION, type DatasetRecord, type LatticeLabDB, MIGRATIONS, type StructureRecord } from './schema';

/**
 * The user's datasets, kept in IndexedDB. Every method that writes does so
 * in a single transaction: if the browser refuses (quota, crash), the
 * transaction aborts and what was stored before is untouched.
 */
export interface OpenOptions {
  /** Another tab holds an older version open; the upgrade waits for it. */
  onBlocked?: () => void;
  /** Another tab wants to upgrade; we close so it can proceed. */
  onVersionChange?: () => void;
  /** For tests: a fake indexedDB factory. */
  name?: string;
}

export const BUILTIN_DATASET_ID = 'builtin';
const SEED_KEY = 'builtinSeedVersion';
const ALL_STORES: ('datasets' | 'structures' | 'meta')[] = ['datasets', 'structures', 'meta'];
type WriteTx = IDBPTransaction<LatticeLabDB, typeof ALL_STORES, 'readwrite'>;

export class Library {
  private constructor(private readonly db: IDBPDatabase<LatticeLabDB>) {}

  static async open(options: OpenOptions = {}): Promise<Library> {
    try {
      const db = await openDB<LatticeLabDB>(options.name ?? DB_NAME, DB_VERSION, {
        async upgrade(db, oldVersion, _newVersion, tx) {
          for (let v = oldVersion; v < DB_VERSION; v++) await MIGRATIONS[v](db, tx);
        },
        blocked: () => options.onBlocked?.(),
        blocking: () => {
          options.onVersionChange?.();
          db.close();
        },
      });
      return new Library(db);
    } catch (e) {
      throw describeStorageError(e, 'open the local database');
    }
  }

  close(): void {
    this.db.close();
  }

  async listDatasets(): Promise<DatasetRecord[]> {
    const all = await this.db.getAll('datasets');
    // Built-in library first, then the user's in creation order.
    return all.sort((a, b) => Number(b.builtin) - Number(a.builtin) || a.createdAt - b.createdAt);
  }

  async createDataset(name: string): Promise<DatasetRecord> {
    const clean = validName(name);
    const now = Date.now();
    const record: DatasetRecord = { id: crypto.randomUUID(), name: clean, builtin: false, createdAt: now, updatedAt: now };
    await this.write('create the dataset', async (tx) => {
      await tx.objectStore('datasets').add(record);
    });
    return record;
  }

  async renameDataset(id: string, name: string): Promise<void> {
    const clean = validName(name);
    await this.write('rename the dataset', async (tx) => {
      const store = tx.objectStore('datasets');
      const d = await store.get(id);
      if (!d) throw new StorageError('That dataset no longer exists.');
      await store.put({ ...d, name: clean, updatedAt: Date.now() });
    });
  }

  async deleteDataset(id: string): Promise<void> {
    await this.write('delete the dataset', async (tx) => {
      const d = await tx.objectStore('datasets').get(id);
      if (!d) return;
      if (d.builtin) throw new StorageError('The built-in library cannot be deleted.');
      const idx = tx.objectStore('structures').index('datasetId');
      for (let c = await idx.openKeyCursor(id); c; c = await c.continue()) await tx.objectStore('structures').delete(c.primaryKey);
      await tx.objectStore('datasets').delete(id);
    });
  }

  async listStructures(datasetId: string): Promise<StructureRecord[]> {
    return this.db.getAllFromIndex('structures', 'datasetId', datasetId);
  }

  async countStructures(datasetId: string): Promise<number> {
    return this.db.countFromIndex('structures', 'datasetId', datasetId);
  }

  async getStructure(id: string): Promise<StructureRecord | undefined> {
    return this.db.get('structures', id);
  }

  /** Adds records to a dataset, all or nothing. */
  async addStructures(datasetId: string, records: StructureRecord[]): Promise<void> {
    await this.write(`save ${records.length} structure${records.length === 1 ? '' : 's'}`, async (tx) => {
      const d = await tx.objectStore('datasets').get(datasetId);
      if (!d) throw new StorageError('That dataset no longer exists.');
      for (const r of records) await tx.objectStore('structures').add({ ...r, datasetId });
      await tx.objectStore('datasets').put({ ...d, updatedAt: Date.now() });
    });
  }

  async renameStructure(id: string, name: string): Promise<void> {
    const clean = validName(name);
    await this.write('rename the structure', async (tx) => {
      const r = await tx.objectStore('structures').get(id);
      if (!r) throw new StorageError('That structure no longer exists.');
      await tx.objectStore('structures').put({ ...r, name: clean });
    });
  }

  async deleteStructure(id: string): Promise<StructureRecord | undefined> {
    let removed: StructureRecord | undefined;
    await this.write('delete the structure', async (tx) => {
      removed = await tx.objectStore('structures').get(id);
      await tx.objectStore('structures').delete(id);
    });
    return removed;
  }

  /**
   * Replaces records that already exist (e.g. with predictions added), all
   * or nothing; a record deleted in the meantime is not brought back.
   */
  async updateStructures(records: StructureRecord[]): Promise<number> {
    let written = 0;
    await this.write(`save ${records.length} prediction${records.length === 1 ? '' : 's'}`, async (tx) => {
      const store = tx.objectStore('structures');
      for (const r of records) {
        if (!(await store.getKey(r.id))) continue;
        await store.put(r);
        written++;
      }
    });
    return written;
  }

  /** Puts back a record removed by deleteStructure (undo). */
  async restoreStructure(record: StructureRecord): Promise<void> {
    await this.write('restore the structure', async (tx) => {
      await tx.objectStore('structures').put(record);
    });
  }

  /**
   * Seeds (or re-seeds, when the app ships a new library) the built-in
   * dataset. `make` is only called when seeding is needed.
   */
  async seedBuiltins(version: number, make: () => StructureRecord[]): Promise<boolean> {
    const meta = await this.db.get('meta', SEED_KEY);
    if (meta?.value === version) return false;
    const records = make();
    await this.write('set up the built-in library', async (tx) => {
      const now = Date.now();
      const structures = tx.objectStore('structures');
      for (let c = await structures.index('datasetId').openKeyCursor(BUILTIN_DATASET_ID); c; c = await c.continue()) await structures.delete(c.primaryKey);
      await tx.objectStore('datasets').put({ id: BUILTIN_DATASET_ID, name: 'Built-in library', builtin: true, createdAt: 0, updatedAt: now });
      for (const r of records) await structures.add({ ...r, datasetId: BUILTIN_DATASET_ID });
      await tx.objectStore('meta').put({ key: SEED_KEY, value: version });
    });
    return true;
  }

  /**
   * Runs body in one read-write transaction over every store. Writes here
   * are small and rare, so the simplicity beats finer-grained locking.
   */
  private async write(action: string, body: (tx: WriteTx) => Promise<void>): Promise<void> {
    const tx = this.db.transaction(ALL_STORES, 'readwrite');
    try {
      await body(tx);
      await tx.done;
    } catch (e) {
      // Abort explicitly so a thrown validation error rolls back earlier puts.
      try {
        tx.abort();
      } catch {
        /* already finished or aborted */
      }
      await tx.done.catch(() => undefined);
      throw describeStorageError(e, action);
    }
  }
}

function validName(name: string): string {
  const clean = name.trim();
  if (!clean) throw new StorageError('A name cannot be empty.');
  if (clean.length > 200) throw new StorageError('A name can be at most 200 characters.');
  return clean;
}
