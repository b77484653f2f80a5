/**
 * The property worker's backend choice, remembered across visits: the
 * first prediction of a visit used to measure the CPU and the GPU paths
 * (each twice, the GPU's first run compiling its pipelines), 2–6 s on a
 * software adapter before any number appeared. The choice is kept per
 * adapter, browser, model file, thread count and batch-size class in a
 * small IndexedDB database of its own (not the library's, so its schema
 * never needs a migration); any of those changing measures again. A
 * storage failure only means measuring again.
 */
import { openDB } from 'idb';
import type { Backend } from './protocol';

const DB = 'latticelab-calibration';
const STORE = 'choices';

export interface CalibrationKey {
  adapter: string;
  agent: string;
  model: string;
  threads: number;
  cpu: Backend;
  size: 'single' | 'batch';
}

export interface Calibration {
  backend: Backend;
  why: string;
  /** ISO date of the measurement. */
  measured: string;
}

export function keyText(k: CalibrationKey): string {
  return JSON.stringify([k.adapter, k.agent, k.model, k.threads, k.cpu, k.size]);
}

const open = () =>
  openDB(DB, 1, {
    upgrade(db) {
      db.createObjectStore(STORE);
    },
  });

export async function recallCalibration(k: CalibrationKey): Promise<Calibration | undefined> {
  try {
    const db = await open();
    try {
      return (await db.get(STORE, keyText(k))) as Calibration | undefined;
    } finally {
      db.close();
    }
  } catch {
    return undefined;
  }
}

export async function rememberCalibration(k: CalibrationKey, c: Calibration): Promise<void> {
  try {
    const db = await open();
    try {
      await db.put(STORE, c, keyText(k));
    } finally {
      db.close();
    }
  } catch {
    // Private mode, storage full: the next visit measures again.
  }
}
