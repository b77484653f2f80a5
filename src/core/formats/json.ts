import type { Mat3, Vec3 } from '../math3';
import { type Pbc, Structure } from '../structure';
import { isElementSymbol } from '../elements';
import { ParseError } from './errors';
import { jsonErrorLine } from './json-error';

/**
 * The project's own JSON format: exactly what the app stores, lossless.
 *
 * {
 *   "format": "latticelab-structure", "version": 1,
 *   "title": "MoS2", "lattice": [[ax,ay,az],[bx,by,bz],[cx,cy,cz]] (Å, rows),
 *   "pbc": [true,true,false], "species": ["Mo","S","S"],
 *   "frac": [[x,y,z], ...],
 *   "occupancy": [...] (optional), "labels": [...] (optional),
 *   "properties": {...} (optional), "warnings": [...] (optional)
 * }
 *
 * A file may hold one such object or an array of them.
 */
export const JSON_FORMAT = 'latticelab-structure';
export const JSON_VERSION = 1;

export interface StructureJson {
  format: typeof JSON_FORMAT;
  version: number;
  title: string;
  lattice: Mat3;
  pbc: Pbc;
  species: string[];
  frac: Vec3[];
  occupancy?: number[];
  labels?: string[];
  properties?: Record<string, unknown>;
  warnings?: string[];
}

export function structureToJson(s: Structure): StructureJson {
  const out: StructureJson = {
    format: JSON_FORMAT,
    version: JSON_VERSION,
    title: s.title,
    lattice: s.lattice.matrix,
    pbc: s.pbc,
    species: s.species,
    frac: s.frac,
  };
  if (s.occupancy) out.occupancy = s.occupancy;
  if (s.labels) out.labels = s.labels;
  if (Object.keys(s.properties).length) out.properties = s.properties;
  if (s.warnings.length) out.warnings = s.warnings;
  return out;
}

/** Validates a parsed object field by field; `where` names it in errors. */
export function structureFromJson(obj: unknown, file: string, where = 'structure'): Structure {
  const fail = (problem: string): never => {
    throw new ParseError(file, undefined, `${where}: ${problem}`);
  };
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return fail('expected an object');
  const o = obj as Record<string, unknown>;
  if (o.format !== undefined && o.format !== JSON_FORMAT) fail(`format is '${String(o.format)}', expected '${JSON_FORMAT}'`);
  if (typeof o.version === 'number' && o.version > JSON_VERSION) fail(`version ${o.version} is newer than this app understands (${JSON_VERSION})`);
  const isNumArray = (x: unknown, len?: number): x is number[] =>
    Array.isArray(x) && (len === undefined || x.length === len) && x.every((v) => typeof v === 'number' && Number.isFinite(v));
  if (!Array.isArray(o.lattice) || o.lattice.length !== 3 || !o.lattice.every((r) => isNumArray(r, 3))) fail('lattice must be a 3x3 array of numbers');
  if (!Array.isArray(o.species) || !o.species.every((x) => typeof x === 'string')) fail('species must be an array of element symbols');
  const species = o.species as string[];
  species.forEach((el, i) => isElementSymbol(el) || fail(`species[${i}] '${el}' is not an element symbol`));
  if (!Array.isArray(o.frac) || o.frac.length !== species.length) fail(`frac must hold one [x,y,z] per species (${species.length})`);
  (o.frac as unknown[]).forEach((f, i) => isNumArray(f, 3) || fail(`frac[${i}] must be three numbers`));
  const pbc = o.pbc === undefined ? [true, true, true] : o.pbc;
  if (!Array.isArray(pbc) || pbc.length !== 3 || !pbc.every((b) => typeof b === 'boolean')) fail('pbc must be three booleans');
  if (o.occupancy !== undefined && (!isNumArray(o.occupancy, species.length) || o.occupancy.some((x) => x <= 0 || x > 1))) {
    fail('occupancy must hold one number in (0, 1] per site');
  }
  if (o.labels !== undefined && (!Array.isArray(o.labels) || o.labels.length !== species.length || !o.labels.every((x) => typeof x === 'string'))) {
    fail('labels must hold one string per site');
  }
  if (o.properties !== undefined && (typeof o.properties !== 'object' || o.properties === null || Array.isArray(o.properties)))
    fail('properties must be an object');
  try {
    return new Structure({
      lattice: o.lattice as Mat3,
      species,
      frac: o.frac as Vec3[],
      pbc: pbc as Pbc,
      title: typeof o.title === 'string' ? o.title : '',
      occupancy: o.occupancy as number[] | undefined,
      labels: o.labels as string[] | undefined,
      properties: o.properties as Record<string, unknown> | undefined,
      warnings: Array.isArray(o.warnings) ? o.warnings.filter((w): w is string => typeof w === 'string') : undefined,
    });
  } catch (e) {
    return fail((e as Error).message);
  }
}

export function readJson(text: string, file: string): Structure[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    throw new ParseError(file, jsonErrorLine(text), `not valid JSON (${msg})`);
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  if (list.length === 0) throw new ParseError(file, undefined, 'the file holds no structures');
  return list.map((o, i) => structureFromJson(o, file, list.length > 1 ? `structure ${i + 1}` : 'structure'));
}

export function writeJson(s: Structure | Structure[]): string {
  return JSON.stringify(Array.isArray(s) ? s.map(structureToJson) : structureToJson(s), null, 1) + '\n';
}
