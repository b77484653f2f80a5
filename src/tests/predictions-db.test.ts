/**
 * "Predict all" storage: predictions saved with their records, found again
 * by search (eform<-1, gap>1, ehull<=0.05) and sort, and carried into the
 * extended-XYZ export.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { multiFrameXyz } from '../core/formats/archive';
import { readStructures } from '../core/formats/index';
import { BUILTINS } from '../core/library/builtins';
import type { PropertyPrediction } from '../core/properties/model';
import { Library } from '../db/library';
import { EXPORT_KEYS, summarise, withPrediction } from '../db/predictions';
import { makeRecord, recordStructure } from '../db/records';
import { matchesQuery, sortRecords } from '../db/search';

const prediction = (eform: number, gap: number, ehull: number, spread: number | null = 0.01): PropertyPrediction => ({
  members: spread === null ? 1 : 3,
  outOfDomain: [],
  values: [
    { key: 'eform', label: 'Formation energy', unit: 'eV/atom', value: eform, raw: eform, spread },
    { key: 'gap', label: 'Band gap', unit: 'eV', value: gap, raw: gap, spread },
    { key: 'ehull', label: 'Energy above hull', unit: 'eV/atom', value: ehull, raw: ehull, spread },
  ],
});

describe('stored predictions', () => {
  const base = BUILTINS.slice(0, 4).map((b) => makeRecord(b.build(), 'd', 'built-in', null, b.name));
  const values: [number, number, number][] = [
    [-2.1, 4.5, 0],
    [-0.4, 0, 0.12],
    [-1.2, 1.3, 0.04],
  ];
  const predicted = values.map((v, k) => withPrediction(base[k], summarise(prediction(...v), 'megnet-properties', 1)));
  const all = [...predicted, base[3]];

  it('searches by predicted value; a structure not yet predicted matches no such term', () => {
    const names = (q: string) => all.filter((r) => matchesQuery(r, q)).map((r) => r.name);
    expect(names('eform<-1')).toEqual([predicted[0].name, predicted[2].name]);
    expect(names('gap>1')).toEqual([predicted[0].name, predicted[2].name]);
    expect(names('ehull<=0.05')).toEqual([predicted[0].name, predicted[2].name]);
    expect(names('ehull>0.1 gap<0.5')).toEqual([predicted[1].name]);
    expect(names('eform>-100')).toHaveLength(3);
    expect(names('GAP>=.5')).toHaveLength(2);
  });

  it('sorts by predicted value with unpredicted structures last in both directions', () => {
    expect(sortRecords(all, 'eform').map((r) => r.predicted?.eform ?? null)).toEqual([-2.1, -1.2, -0.4, null]);
    expect(sortRecords(all, 'gap', true).map((r) => r.predicted?.gap ?? null)).toEqual([4.5, 1.3, 0, null]);
  });

  it('keeps the numbers in the structure, so they travel in the extXYZ export', () => {
    const xyz = multiFrameXyz(predicted.map((r) => ({ name: r.name, structure: recordStructure(r) })));
    const back = readStructures('export.xyz', xyz);
    expect(back.map((s) => s.properties[EXPORT_KEYS.eform])).toEqual([-2.1, -0.4, -1.2]);
    expect(back[0].properties[`${EXPORT_KEYS.gap}_spread`]).toBe(0.01);
    expect(back[0].properties.megnet_model).toBe('megnet-properties');
  });

  it('drops a stale spread when a single model re-predicts', () => {
    const again = withPrediction(predicted[0], summarise(prediction(-2, 4, 0, null), 'other', 2));
    expect(again.data.properties?.[`${EXPORT_KEYS.eform}_spread`]).toBeUndefined();
    expect(again.predicted?.eformSpread).toBeNull();
  });

  it('refuses a prediction with a non-finite value', () => {
    expect(() => summarise(prediction(Number.NaN, 1, 0), 'm')).toThrow(/finite eform/);
  });

  it('saves predictions with their records in IndexedDB and never resurrects a deleted one', async () => {
    const lib = await Library.open({ name: 'predictions-test' });
    const d = await lib.createDataset('Mine');
    const recs = base.slice(0, 2).map((r) => ({ ...r, datasetId: d.id }));
    await lib.addStructures(d.id, recs);
    await lib.deleteStructure(recs[1].id);
    const written = await lib.updateStructures(recs.map((r) => withPrediction(r, summarise(prediction(-1, 1, 0), 'm', 5))));
    expect(written).toBe(1);
    const list = await lib.listStructures(d.id);
    expect(list).toHaveLength(1);
    expect(list[0].predicted?.eform).toBe(-1);
  });
});
