import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { BUILTINS } from '../core/library/builtins';
import { BUILTIN_DATASET_ID, Library } from '../db/library';
import { makeRecord, recordStructure } from '../db/records';
import { DB_VERSION, MIGRATIONS } from '../db/schema';
import { matchesQuery, sortRecords } from '../db/search';

let dbCount = 0;
const fresh = () => Library.open({ name: `test-${++dbCount}` });
const builtinRecords = () => BUILTINS.map((b) => makeRecord(b.build(), BUILTIN_DATASET_ID, 'built-in', null, b.name));

describe('Library (IndexedDB)', () => {
  it('seeds the built-in library once per version', async () => {
    const lib = await fresh();
    expect(await lib.seedBuiltins(1, builtinRecords)).toBe(true);
    expect(await lib.seedBuiltins(1, builtinRecords)).toBe(false);
    expect(await lib.countStructures(BUILTIN_DATASET_ID)).toBe(BUILTINS.length);
    // A new library version replaces the old entries rather than duplicating them.
    expect(await lib.seedBuiltins(2, builtinRecords)).toBe(true);
    expect(await lib.countStructures(BUILTIN_DATASET_ID)).toBe(BUILTINS.length);
    const [d] = await lib.listDatasets();
    expect(d.builtin).toBe(true);
    await expect(lib.deleteDataset(BUILTIN_DATASET_ID)).rejects.toThrow(/cannot be deleted/);
  });

  it('creates, fills, renames and deletes datasets; structures come back intact', async () => {
    const lib = await fresh();
    const d = await lib.createDataset('  Mine  ');
    expect(d.name).toBe('Mine');
    const s = BUILTINS[0].build();
    const rec = makeRecord(s, d.id, 'x.cif', { number: 187, symbol: 'P-6m2' });
    await lib.addStructures(d.id, [rec]);
    const back = recordStructure((await lib.getStructure(rec.id))!);
    expect(back.frac).toEqual(s.frac);
    expect(back.lattice.matrix).toEqual(s.lattice.matrix);
    await lib.renameDataset(d.id, 'Renamed');
    expect((await lib.listDatasets()).find((x) => x.id === d.id)?.name).toBe('Renamed');
    await lib.renameStructure(rec.id, 'My MoS2');
    expect((await lib.getStructure(rec.id))?.name).toBe('My MoS2');
    await lib.deleteDataset(d.id);
    expect(await lib.getStructure(rec.id)).toBeUndefined();
    await expect(lib.createDataset('   ')).rejects.toThrow(/empty/);
  });

  it('adds all or nothing: a failing batch leaves the dataset as it was', async () => {
    const lib = await fresh();
    const d = await lib.createDataset('Batch');
    const a = makeRecord(BUILTINS[0].build(), d.id, 'a', null);
    await lib.addStructures(d.id, [a]);
    const b = makeRecord(BUILTINS[1].build(), d.id, 'b', null);
    // The second record reuses a's key, so the add fails half-way through the batch.
    await expect(lib.addStructures(d.id, [b, { ...a }])).rejects.toThrow(/Nothing was changed/);
    expect((await lib.listStructures(d.id)).map((r) => r.id)).toEqual([a.id]);
  });

  it('delete returns the record so it can be restored (undo)', async () => {
    const lib = await fresh();
    const d = await lib.createDataset('Undo');
    const a = makeRecord(BUILTINS[2].build(), d.id, 'a', null);
    await lib.addStructures(d.id, [a]);
    const removed = await lib.deleteStructure(a.id);
    expect(await lib.countStructures(d.id)).toBe(0);
    await lib.restoreStructure(removed!);
    expect(await lib.countStructures(d.id)).toBe(1);
  });

  it('migrates a version-1 database, keeping its data', async () => {
    const name = 'migrate-test';
    const v1 = await openDB(name, 1, { upgrade: (db, _o, _n, tx) => void MIGRATIONS[0](db as never, tx as never) });
    await v1.put('datasets', { id: 'd', name: 'Old', builtin: false, createdAt: 1, updatedAt: 1 });
    await v1.put('structures', { ...makeRecord(BUILTINS[0].build(), 'd', 'old.cif', null), id: 's1' });
    v1.close();
    const lib = await Library.open({ name });
    expect(DB_VERSION).toBeGreaterThan(1);
    expect((await lib.listStructures('d')).map((r) => r.id)).toEqual(['s1']);
    lib.close();
  });

  it('reports a full disk in words and keeps what was stored', async () => {
    const lib = await fresh();
    const d = await lib.createDataset('Quota');
    const a = makeRecord(BUILTINS[0].build(), d.id, 'a', null);
    await lib.addStructures(d.id, [a]);
    // Simulate the browser refusing the write with QuotaExceededError.
    const origAdd = IDBObjectStore.prototype.add;
    IDBObjectStore.prototype.add = function () {
      throw new DOMException('quota', 'QuotaExceededError');
    };
    try {
      await expect(lib.addStructures(d.id, [makeRecord(BUILTINS[1].build(), d.id, 'b', null)])).rejects.toThrow(/Storage is full.*Nothing was changed/);
    } finally {
      IDBObjectStore.prototype.add = origAdd;
    }
    expect((await lib.listStructures(d.id)).map((r) => r.id)).toEqual([a.id]);
  });
});

describe('search and sort', () => {
  const recs = BUILTINS.map((b) => {
    const r = makeRecord(b.build(), 'x', 'b', null, b.name);
    return r;
  });
  const find = (q: string) => recs.filter((r) => matchesQuery(r, q)).map((r) => r.reducedFormula);

  it('finds by formula, elements and site count', () => {
    expect(find('MoS2')).toEqual(['MoS2', 'MoS2']);
    expect(find('W Se')).toEqual(['WSe2']);
    expect(find('Si n:8')).toEqual(['Si']);
    expect(find('n<2').length).toBe(0);
    expect(find('n>=12')).toContain('CaF2');
  });

  it('finds by space group number and symbol', () => {
    const withSg = recs.map((r, i) => ({ ...r, spaceGroupNumber: i === 0 ? 187 : 1, spaceGroupSymbol: i === 0 ? 'P-6m2' : 'P1' }));
    expect(withSg.filter((r) => matchesQuery(r, 'sg:187'))).toHaveLength(1);
    expect(withSg.filter((r) => matchesQuery(r, 'sg:P-6m2'))).toHaveLength(1);
  });

  it('sorts by sites, both ways', () => {
    const asc = sortRecords(recs, 'numSites').map((r) => r.numSites);
    expect(asc).toEqual([...asc].sort((a, b) => a - b));
    expect(sortRecords(recs, 'numSites', true)[0].numSites).toBe(Math.max(...asc));
  });

  it('sorts names numerically and formulas as localeCompare does, ties by name', () => {
    const names = ['c10', 'c2', 'C1', 'c1', 'b', 'Ä', 'a', 'c100', 'c20', 'frame 3', 'frame 12'];
    const formulas = ['NaCl', 'MgO', 'NaCl', 'Si', 'MgO', 'ZnS', 'GaAs', 'Si', 'NaCl', 'Cu', 'Cu'];
    const many = names.map((name, i) => ({ ...recs[0], name, reducedFormula: formulas[i] }));
    const byName = [...names].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    expect(sortRecords(many, 'name').map((r) => r.name)).toEqual(byName);
    expect(sortRecords(many, 'name', true).map((r) => r.name)).toEqual([...byName].reverse());
    const byFormula = [...many].sort((a, b) => a.reducedFormula.localeCompare(b.reducedFormula) || a.name.localeCompare(b.name)).map((r) => r.name);
    expect(sortRecords(many, 'formula').map((r) => r.name)).toEqual(byFormula);
  });
});
