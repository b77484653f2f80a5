import { strToU8, zipSync } from 'fflate';
import type { Structure } from '../structure';
import { writeCif } from './cif';
import { writeExtxyz } from './extxyz';

/**
 * Dataset export: a zip of one CIF per structure, or one multi-frame
 * extended XYZ. Entry names are made unique and file-system safe.
 */
export interface NamedStructure {
  name: string;
  structure: Structure;
}

export function safeFileName(name: string): string {
  const clean = name
    .replace(/[^\w.+-]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 100);
  return clean || 'structure';
}

export function cifZip(items: NamedStructure[]): Uint8Array {
  const used = new Set<string>();
  const entries: Record<string, Uint8Array> = {};
  for (const { name, structure } of items) {
    const base = safeFileName(name);
    let file = `${base}.cif`;
    for (let k = 2; used.has(file.toLowerCase()); k++) file = `${base}_${k}.cif`;
    used.add(file.toLowerCase());
    entries[file] = strToU8(writeCif(structure.with({ title: name })));
  }
  return zipSync(entries, { level: 6 });
}

export function multiFrameXyz(items: NamedStructure[]): string {
  return writeExtxyz(items.map(({ name, structure }) => structure.with({ title: name })));
}
