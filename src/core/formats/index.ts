import type { Structure } from '../structure';
import { readCif, writeCifs } from './cif';
import { ParseError } from './errors';
import { readExtxyz, writeExtxyz } from './extxyz';
import { readJson, writeJson } from './json';
import { readPoscar, writePoscar } from './poscar';
import { checkStructure } from './sanity';

export { ParseError, WriteError } from './errors';

export type FormatId = 'cif' | 'poscar' | 'xyz' | 'json';
export const FORMATS: readonly FormatId[] = ['cif', 'poscar', 'xyz', 'json'];

export const FORMAT_EXTENSION: Record<FormatId, string> = { cif: 'cif', poscar: 'vasp', xyz: 'xyz', json: 'json' };

/** Largest file the app will try to parse; bigger ones are refused up front. */
export const MAX_FILE_BYTES = 200 * 1024 * 1024;

/** Guesses the format from the file name, then from the content. */
export function detectFormat(fileName: string, text: string): FormatId | undefined {
  const name = fileName.toLowerCase().split(/[\\/]/).pop() ?? '';
  if (name.endsWith('.cif') || name.endsWith('.mcif')) return 'cif';
  if (name.endsWith('.json')) return 'json';
  if (name.endsWith('.xyz') || name.endsWith('.extxyz')) return 'xyz';
  if (name.endsWith('.vasp') || name.endsWith('.poscar') || /(^|[^a-z])(poscar|contcar)/.test(name)) return 'poscar';
  const head = text.trimStart();
  if (head.startsWith('{') || head.startsWith('[')) return 'json';
  if (/^data_/im.test(text) && /_cell_length_a/i.test(text)) return 'cif';
  if (/^\s*\d+\s*$/.test(text.split('\n')[0] ?? '')) return 'xyz';
  const lines = text.split('\n');
  if (lines.length > 7 && /^\s*-?[\d.]+(\s+[\d.]+){0,2}\s*$/.test(lines[1] ?? '')) return 'poscar';
  return undefined;
}

/**
 * Reads every structure in a file. Throws a ParseError (naming the file and
 * line) on any problem, so an import either fully succeeds or changes nothing.
 */
export function readStructures(fileName: string, text: string, format?: FormatId): Structure[] {
  if (text.length > MAX_FILE_BYTES) throw new ParseError(fileName, undefined, `file is larger than ${MAX_FILE_BYTES / 1024 / 1024} MB`);
  const fmt = format ?? detectFormat(fileName, text);
  let out: Structure[];
  switch (fmt) {
    case 'cif':
      out = readCif(text, fileName);
      break;
    case 'poscar':
      out = [readPoscar(text, fileName)];
      break;
    case 'xyz':
      out = readExtxyz(text, fileName);
      break;
    case 'json':
      out = readJson(text, fileName);
      break;
    default:
      throw new ParseError(fileName, undefined, 'unknown file format: use .cif, POSCAR/CONTCAR/.vasp, .xyz/.extxyz or .json');
  }
  // The readers check cells and coordinates on their lines; this is the net (sanity.ts).
  for (const s of out) checkStructure(s, fileName);
  return out;
}

/** Writes structures in a format; POSCAR and CIF hold one structure each. */
export function writeStructures(structures: Structure[], format: FormatId): string {
  switch (format) {
    case 'cif':
      return writeCifs(structures);
    case 'poscar':
      if (structures.length !== 1) throw new Error('a POSCAR holds exactly one structure');
      return writePoscar(structures[0]);
    case 'xyz':
      return writeExtxyz(structures);
    case 'json':
      return writeJson(structures.length === 1 ? structures[0] : structures);
  }
}
