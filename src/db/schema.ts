import type { DBSchema, IDBPDatabase, IDBPTransaction, StoreNames } from 'idb';
import type { StructureJson } from '../core/formats/json';

/**
 * IndexedDB layout. Bump DB_VERSION and append to MIGRATIONS to change it;
 * never edit a migration that has shipped, because browsers that already ran
 * it will not run it again.
 */
export const DB_NAME = 'latticelab';

export interface DatasetRecord {
  id: string;
  name: string;
  /** The built-in library is re-seeded by the app; users may not delete it. */
  builtin: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface StructureRecord {
  id: string;
  datasetId: string;
  name: string;
  /** File it came from, or 'built-in'. */
  source: string;
  formula: string;
  reducedFormula: string;
  /** Distinct elements, for the multi-entry search index. */
  elements: string[];
  numSites: number;
  spaceGroupNumber: number | null;
  spaceGroupSymbol: string | null;
  createdAt: number;
  data: StructureJson;
  /** The property model's prediction ("Predict all"); absent until predicted. No index: searched in memory. */
  predicted?: PredictedSummary;
}

/** What "Predict all" stores with a record (db/predictions.ts); spreads are null for a single model. */
export interface PredictedSummary {
  /** Model name from its manifest, and when it ran (ms since 1970). */
  model: string;
  at: number;
  eform: number;
  gap: number;
  ehull: number;
  eformSpread: number | null;
  gapSpread: number | null;
  ehullSpread: number | null;
}

export interface MetaRecord {
  key: string;
  value: unknown;
}

export interface LatticeLabDB extends DBSchema {
  datasets: { key: string; value: DatasetRecord; indexes: { name: string } };
  structures: {
    key: string;
    value: StructureRecord;
    indexes: { datasetId: string; elements: string; reducedFormula: string };
  };
  meta: { key: string; value: MetaRecord };
}

type UpgradeTx = IDBPTransaction<LatticeLabDB, StoreNames<LatticeLabDB>[], 'versionchange'>;
type Migration = (db: IDBPDatabase<LatticeLabDB>, tx: UpgradeTx) => void | Promise<void>;

/** MIGRATIONS[k] takes the database from version k to k + 1. */
export const MIGRATIONS: Migration[] = [
  // 0 -> 1: datasets and their structures.
  (db) => {
    db.createObjectStore('datasets', { keyPath: 'id' }).createIndex('name', 'name');
    db.createObjectStore('structures', { keyPath: 'id' }).createIndex('datasetId', 'datasetId');
    db.createObjectStore('meta', { keyPath: 'key' });
  },
  // 1 -> 2: search indexes by element and reduced formula.
  (_db, tx) => {
    const store = tx.objectStore('structures');
    store.createIndex('elements', 'elements', { multiEntry: true });
    store.createIndex('reducedFormula', 'reducedFormula');
  },
];

export const DB_VERSION = MIGRATIONS.length;
