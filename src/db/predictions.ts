/**
 * Predictions of the crystal-property model stored with a dataset's
 * records: a summary on the record for search, sort and the plot, and the
 * same numbers as flat properties of the structure, so they travel in the
 * extended-XYZ export (the defect editor saves its predictions the same way).
 */
import type { PropertyPrediction } from '../core/properties/model';
import type { PredictedSummary, StructureRecord } from './schema';

/** Property names in the structure JSON and in exported files (prefix "megnet_" keeps them apart from the defect model's). */
export const EXPORT_KEYS = {
  eform: 'megnet_eform_eV_per_atom',
  gap: 'megnet_gap_eV',
  ehull: 'megnet_ehull_eV_per_atom',
} as const;

export function summarise(p: PropertyPrediction, model: string, at = Date.now()): PredictedSummary {
  const get = (key: 'eform' | 'gap' | 'ehull') => p.values.find((v) => v.key === key);
  const value = (key: 'eform' | 'gap' | 'ehull') => {
    const v = get(key);
    if (!v || !Number.isFinite(v.value)) throw new Error(`the prediction has no finite ${key}`);
    return v.value;
  };
  return {
    model,
    at,
    eform: value('eform'),
    gap: value('gap'),
    ehull: value('ehull'),
    eformSpread: get('eform')?.spread ?? null,
    gapSpread: get('gap')?.spread ?? null,
    ehullSpread: get('ehull')?.spread ?? null,
  };
}

const round = (x: number) => Number(x.toFixed(5));

/** The record with the prediction stored on it and in its structure's properties. */
export function withPrediction(r: StructureRecord, predicted: PredictedSummary): StructureRecord {
  const props: Record<string, unknown> = { ...(r.data.properties ?? {}) };
  for (const key of ['eform', 'gap', 'ehull'] as const) {
    props[EXPORT_KEYS[key]] = round(predicted[key]);
    const spread = predicted[`${key}Spread`];
    if (spread !== null) props[`${EXPORT_KEYS[key]}_spread`] = round(spread);
    else delete props[`${EXPORT_KEYS[key]}_spread`];
  }
  props.megnet_model = predicted.model;
  return { ...r, predicted, data: { ...r.data, properties: props } };
}
