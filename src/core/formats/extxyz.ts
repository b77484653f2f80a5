import { Lattice } from '../lattice';
import type { Mat3, Vec3 } from '../math3';
import { type Pbc, Structure } from '../structure';
import { elementByZ, elementFromLabel } from '../elements';
import { ParseError, parseNumber } from './errors';
import { checkCell, checkCellRows, checkFrac } from './sanity';

/**
 * Extended XYZ as written by ASE and read by most ML-potential codes
 * (spec: https://github.com/libAtoms/extxyz): per frame an atom count, a
 * comment line of key=value pairs (Lattice="ax ay az bx by bz cx cy cz",
 * Properties=species:S:1:pos:R:3:..., pbc="T T F", energy=...), then one
 * line per atom. Plain XYZ (no Lattice) is read as a molecule in a box.
 */

/** Vacuum added around a molecule so that it has a cell to live in (Å). */
const MOLECULE_PADDING = 10;

interface Column {
  name: string;
  type: 'S' | 'R' | 'I' | 'L';
  count: number;
}

/** Splits the comment line into key=value pairs; values may be "quoted" or {braced}. */
export function parseKeyValues(line: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /\s*([A-Za-z_][\w-]*)\s*(?:=\s*("(?:[^"\\]|\\.)*"|'[^']*'|\{[^}]*\}|\[[^\]]*\]|\S+))?/y;
  let pos = 0;
  while (pos < line.length) {
    re.lastIndex = pos;
    const m = re.exec(line);
    if (!m || m[0].length === 0) break;
    pos = re.lastIndex;
    let v = m[2] ?? 'T';
    if (/^["'{[]/.test(v)) v = v.slice(1, -1).replace(/\\"/g, '"');
    out.set(m[1].toLowerCase() === 'properties' ? 'Properties' : m[1].toLowerCase() === 'lattice' ? 'Lattice' : m[1], v);
  }
  return out;
}

function parseColumns(spec: string, file: string, line: number): Column[] {
  const parts = spec.split(':');
  if (parts.length % 3 !== 0) throw new ParseError(file, line, `Properties '${spec}' is not name:type:count triples`);
  const cols: Column[] = [];
  for (let k = 0; k < parts.length; k += 3) {
    const type = parts[k + 1].toUpperCase();
    const count = Number(parts[k + 2]);
    if (!['S', 'R', 'I', 'L'].includes(type) || !Number.isInteger(count) || count < 1) {
      throw new ParseError(file, line, `bad Properties column '${parts.slice(k, k + 3).join(':')}'`);
    }
    cols.push({ name: parts[k], type: type as Column['type'], count });
  }
  return cols;
}

function parseBool(v: string): boolean | undefined {
  if (/^(t|true)$/i.test(v)) return true;
  if (/^(f|false)$/i.test(v)) return false;
  return undefined;
}

export function readExtxyz(text: string, fileName: string): Structure[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const frames: Structure[] = [];
  let n = 0;
  while (n < lines.length) {
    if (lines[n].trim() === '') {
      n++;
      continue;
    }
    const countLine = n + 1;
    const count = Number(lines[n].trim());
    if (!Number.isInteger(count) || count < 0) {
      throw new ParseError(fileName, countLine, `expected the number of atoms of frame ${frames.length + 1}, found '${lines[n].trim()}'`);
    }
    if (count > 10_000_000) throw new ParseError(fileName, countLine, `${count} atoms is more than this app can hold`);
    if (n + 1 >= lines.length) throw new ParseError(fileName, countLine, 'file ends before the comment line');
    const commentLine = n + 2;
    const kv = parseKeyValues(lines[n + 1]);
    n += 2;

    const cols = kv.has('Properties')
      ? parseColumns(kv.get('Properties')!, fileName, commentLine)
      : [
          { name: 'species', type: 'S' as const, count: 1 },
          { name: 'pos', type: 'R' as const, count: 3 },
        ];
    const width = cols.reduce((a, c) => a + c.count, 0);
    const speciesCol = cols.find((c) => c.name === 'species' || c.name === 'element');
    const posCol = cols.find((c) => c.name === 'pos' || c.name === 'positions');
    if (!speciesCol || !posCol || posCol.count !== 3) {
      throw new ParseError(fileName, commentLine, 'Properties must include species:S:1 and pos:R:3');
    }
    const offsetOf = (c: Column) => cols.slice(0, cols.indexOf(c)).reduce((a, x) => a + x.count, 0);
    const so = offsetOf(speciesCol);
    const po = offsetOf(posCol);
    const occCol = cols.find((c) => c.name === 'occupancy' && c.type === 'R' && c.count === 1);
    const oo = occCol ? offsetOf(occCol) : -1;
    const occupancy: number[] = [];

    const species: string[] = [];
    const cart: Vec3[] = [];
    for (let i = 0; i < count; i++) {
      if (n >= lines.length) throw new ParseError(fileName, lines.length, `file ends after ${i} of ${count} atoms`);
      const ln = n + 1;
      if (lines[n].trim() === '') throw new ParseError(fileName, ln, `frame ${frames.length + 1} ends after ${i} of ${count} atoms`);
      const w = lines[n].trim().split(/\s+/);
      if (w.length < width) throw new ParseError(fileName, ln, `expected ${width} columns, found ${w.length}`);
      // Some writers put atomic numbers in the species column.
      const el = /^\d+$/.test(w[so]) ? elementByZ(Number(w[so]))?.symbol : elementFromLabel(w[so]);
      if (!el) throw new ParseError(fileName, ln, `'${w[so]}' is not an element symbol`);
      species.push(el);
      cart.push([0, 1, 2].map((k) => parseNumber(w[po + k], fileName, ln, 'position')) as Vec3);
      if (oo >= 0) {
        const o = parseNumber(w[oo], fileName, ln, 'occupancy');
        if (o < 0 || o > 1.05) throw new ParseError(fileName, ln, `occupancy ${w[oo]} is outside [0, 1]`);
        occupancy.push(Math.min(1, o));
      }
      n++;
    }

    let lattice: Lattice;
    let pbc: Pbc;
    const latText = kv.get('Lattice');
    if (latText !== undefined) {
      const v = latText
        .trim()
        .split(/[\s,]+/)
        .map((x) => parseNumber(x, fileName, commentLine, 'Lattice entry'));
      if (v.length !== 9) throw new ParseError(fileName, commentLine, `Lattice needs 9 numbers, found ${v.length}`);
      pbc = [true, true, true];
      const pbcText = kv.get('pbc');
      if (pbcText !== undefined) {
        const b = pbcText
          .trim()
          .split(/[\s,]+/)
          .map(parseBool);
        if (b.length !== 3 || b.some((x) => x === undefined)) throw new ParseError(fileName, commentLine, `pbc must be three T/F values, found '${pbcText}'`);
        pbc = b as Pbc;
      }
      const rows = [v.slice(0, 3), v.slice(3, 6), v.slice(6, 9)] as Mat3;
      checkCellRows(rows, fileName, commentLine, pbc);
      try {
        lattice = new Lattice(rows);
      } catch (e) {
        throw new ParseError(fileName, commentLine, (e as Error).message);
      }
      checkCell(lattice, fileName, commentLine, pbc);
    } else {
      // No cell: a molecule. Give it an orthorhombic box with padding so that
      // viewers and writers have a cell, and mark it non-periodic.
      try {
        lattice = moleculeBox(cart);
      } catch (e) {
        // Coordinates so far apart (or so large) that no box holds them.
        throw new ParseError(fileName, commentLine, `no Lattice, and the atoms span no finite box: ${(e as Error).message}`);
      }
      pbc = [false, false, false];
    }

    const properties: Record<string, unknown> = {};
    for (const [k, v] of kv) {
      if (k === 'Lattice' || k === 'Properties' || k === 'pbc') continue;
      const num = Number(v);
      properties[k] = v !== '' && Number.isFinite(num) ? num : (parseBool(v) ?? v);
    }
    const title = typeof properties.title === 'string' ? properties.title : `${fileName}${frames.length ? ` #${frames.length + 1}` : ''}`;
    // Fractional coordinates once, checked on their atoms' lines.
    const frac = cart.map((r, i) => {
      const f = lattice.cartToFrac(r);
      checkFrac(f, fileName, commentLine + 1 + i, `atom ${i + 1}`);
      return f;
    });
    frames.push(new Structure({ lattice, species, frac, pbc, title, properties, ...(oo >= 0 ? { occupancy } : {}) }));
  }
  if (frames.length === 0) throw new ParseError(fileName, 1, 'file is empty');
  return frames;
}

function moleculeBox(cart: Vec3[]): Lattice {
  const ext = [0, 1, 2].map((k) => {
    const xs = cart.map((r) => r[k]);
    return xs.length ? Math.max(...xs) - Math.min(...xs) : 0;
  });
  const L = ext.map((e) => e + MOLECULE_PADDING);
  return new Lattice([
    [L[0], 0, 0],
    [0, L[1], 0],
    [0, 0, L[2]],
  ]);
}

/** Writes one or more frames as extended XYZ. */
export function writeExtxyz(frames: Structure | Structure[]): string {
  const list = Array.isArray(frames) ? frames : [frames];
  const out: string[] = [];
  const num = (x: number) => x.toFixed(10);
  for (const s of list) {
    out.push(String(s.numSites));
    const lat = s.lattice.matrix.flat().map(num).join(' ');
    const pbc = s.pbc.map((b) => (b ? 'T' : 'F')).join(' ');
    const extra: string[] = [];
    if (s.title) extra.push(`title=${quote(s.title)}`);
    for (const [k, v] of Object.entries(s.properties)) {
      if (k === 'title' || !/^[A-Za-z_][\w-]*$/.test(k)) continue;
      if (typeof v === 'number' && Number.isFinite(v)) extra.push(`${k}=${v}`);
      else if (typeof v === 'string') extra.push(`${k}=${quote(v)}`);
      else if (typeof v === 'boolean') extra.push(`${k}=${v ? 'T' : 'F'}`);
    }
    // Partial occupancy travels as a per-atom column, so a mixed site stays a mixed site.
    const occ = s.hasPartialOccupancy ? s.occupancy : undefined;
    out.push([`Lattice="${lat}"`, `Properties=species:S:1:pos:R:3${occ ? ':occupancy:R:1' : ''}`, `pbc="${pbc}"`, ...extra].join(' '));
    s.cart.forEach((r, i) => out.push(`${s.species[i].padEnd(3)} ${r.map((x) => num(x).padStart(16)).join(' ')}${occ ? ` ${(occ[i] ?? 1).toFixed(8)}` : ''}`));
  }
  return out.join('\n') + '\n';
}

function quote(v: string): string {
  return `"${v.replace(/[\n\r]/g, ' ').replace(/"/g, '\\"')}"`;
}
