/**
 * What an imported structure is called: its file, so three files of one
 * crystal stay three names (the formula is shown beside the name anyway),
 * plus the CIF data block (or the frame number of a multi-frame XYZ) where
 * a file brought several structures.
 */
import type { Structure } from '../structure';

export function importedName(fileName: string, s: Structure, index: number, count: number): string {
  if (count <= 1) return fileName;
  const block = s.properties.cifBlock;
  return typeof block === 'string' && block !== '' ? `${fileName} · ${block}` : `${fileName} #${index + 1}`;
}

/** "3 data blocks" / "12 frames": how many structures one file brought in, for the import message. */
export function describeParts(fileName: string, structures: readonly Structure[]): string | null {
  if (structures.length <= 1) return null;
  const cif = structures.some((s) => typeof s.properties.cifBlock === 'string');
  return `${fileName}: ${structures.length} ${cif ? 'data blocks' : 'frames'}`;
}
