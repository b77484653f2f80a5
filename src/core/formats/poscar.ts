import { Lattice } from '../lattice';
import type { Mat3, Vec3 } from '../math3';
import { Structure } from '../structure';
import { elementFromLabel } from '../elements';
import { ParseError, parseNumber, WriteError } from './errors';
import { checkAtomCount, checkCell, checkCellRows, checkFrac } from './sanity';

/**
 * VASP POSCAR / CONTCAR, versions 4 (no species line) and 5 (species line).
 * Format as documented on the VASP wiki (https://www.vasp.at/wiki/index.php/POSCAR):
 * comment; scale (one number, negative = target volume in Å^3, or three
 * per-axis factors); three lattice vectors; [species]; counts; optional
 * "Selective dynamics"; "Direct" or "Cartesian"; one line per site.
 */
export function readPoscar(text: string, fileName: string): Structure {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let n = 0; // index of the next line to read
  const fail = (problem: string, line = n): never => {
    throw new ParseError(fileName, line, problem);
  };
  const next = (what: string): string => {
    if (n >= lines.length) fail(`file ends before the ${what}`, lines.length);
    return lines[n++];
  };
  const words = (s: string) => s.trim().split(/\s+/).filter(Boolean);

  if (text.trim() === '') fail('file is empty', 1);
  const comment = next('comment line').trim();
  const warnings: string[] = [];

  const scaleWords = words(next('scale factor'));
  if (scaleWords.length !== 1 && scaleWords.length !== 3) fail('scale line must hold one or three numbers');
  const scales = scaleWords.map((w) => parseNumber(w, fileName, n, 'scale factor'));
  if (scales.some((x) => x === 0)) fail('scale factor is zero');
  if (scales.length === 3 && scales.some((x) => x < 0)) fail('per-axis scale factors must be positive');

  const rows: Vec3[] = [];
  for (let k = 0; k < 3; k++) {
    const w = words(next(`lattice vector ${k + 1}`));
    if (w.length < 3) fail(`lattice vector ${k + 1} needs three numbers`);
    rows.push(w.slice(0, 3).map((x) => parseNumber(x, fileName, n, `lattice vector ${k + 1}`)) as Vec3);
  }
  let matrix = rows as Mat3;
  let factor: Vec3;
  if (scales.length === 3) {
    factor = scales as Vec3;
  } else if (scales[0] < 0) {
    // Negative scale: the cell is scaled isotropically to this volume.
    const unscaled = Math.abs(
      rows[0][0] * (rows[1][1] * rows[2][2] - rows[1][2] * rows[2][1]) -
        rows[0][1] * (rows[1][0] * rows[2][2] - rows[1][2] * rows[2][0]) +
        rows[0][2] * (rows[1][0] * rows[2][1] - rows[1][1] * rows[2][0]),
    );
    if (unscaled === 0) fail('lattice vectors are coplanar', 3);
    const s = Math.cbrt(-scales[0] / unscaled);
    factor = [s, s, s];
  } else {
    factor = [scales[0], scales[0], scales[0]];
  }
  matrix = matrix.map((r) => [r[0] * factor[0], r[1] * factor[1], r[2] * factor[2]]) as Mat3;
  checkCellRows(matrix, fileName, 3);
  let lattice: Lattice;
  try {
    lattice = new Lattice(matrix);
  } catch (e) {
    return fail((e as Error).message, 3);
  }
  checkCell(lattice, fileName, 3);

  // Version 5 has a line of species names before the counts; version 4 does not.
  let speciesNames: string[];
  let countWords = words(next('species counts'));
  let countsLine = n;
  if (countWords.length > 0 && countWords.every((w) => !/^\d+$/.test(w))) {
    speciesNames = countWords.map((w) => {
      // VASP 6 writes 'Mo_pv/8a3b...' (POTCAR name and hash); keep the element.
      const el = elementFromLabel(w.split('/')[0].split('_')[0]);
      return el ?? fail(`'${w}' is not an element symbol`);
    });
    countWords = words(next('species counts'));
    countsLine = n;
  } else {
    // VASP 4: no species line. As ASE and pymatgen read such files: the
    // element symbols on the comment line, else symbols written after each
    // atom's coordinates (checked below, once the coordinates are read).
    const guess = words(comment).map((w) => elementFromLabel(w));
    speciesNames = guess.slice(0, countWords.length).filter((x): x is string => x !== undefined);
    if (speciesNames.length === countWords.length) warnings.push('VASP 4 file: species read from the comment line');
    else speciesNames = [];
  }
  const speciesAfterCoordinates = speciesNames.length === 0;
  if (!speciesAfterCoordinates && countWords.length !== speciesNames.length) fail(`${speciesNames.length} species but ${countWords.length} counts`, countsLine);
  const counts = countWords.map((w) => {
    if (!/^\d+$/.test(w)) fail(`atom count '${w}' is not a whole number`, countsLine);
    return Number(w);
  });
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) fail('no atoms', countsLine);
  checkAtomCount(total, fileName, countsLine);
  if (total > 10_000_000) fail(`${total} atoms is more than this app can hold`, countsLine);

  let mode = next('coordinate mode').trim();
  let selective = false;
  if (/^s/i.test(mode)) {
    selective = true;
    mode = next('coordinate mode').trim();
  }
  let cartesian: boolean;
  if (/^[ck]/i.test(mode)) cartesian = true;
  else if (/^d/i.test(mode)) cartesian = false;
  else return fail(`expected 'Direct' or 'Cartesian', found '${mode}'`);

  const frac: Vec3[] = [];
  const flags: [boolean, boolean, boolean][] = [];
  /** Symbols after the coordinates (VASP 4 without species names), with their lines. */
  const trailing: { el: string | undefined; line: number }[] = [];
  for (let i = 0; i < total; i++) {
    const w = words(next(`position of atom ${i + 1} of ${total}`));
    if (w.length < 3) fail(`atom ${i + 1} needs three coordinates`);
    if (speciesAfterCoordinates) trailing.push({ el: w[selective ? 6 : 3] !== undefined ? elementFromLabel(w[selective ? 6 : 3]) : undefined, line: n });
    const p = w.slice(0, 3).map((x) => parseNumber(x, fileName, n, `coordinate of atom ${i + 1}`)) as Vec3;
    const f = cartesian ? lattice.cartToFrac([p[0] * factor[0], p[1] * factor[1], p[2] * factor[2]]) : p;
    checkFrac(f, fileName, n, `atom ${i + 1}`);
    frac.push(f);
    if (selective) {
      const f = w.slice(3, 6);
      if (f.length < 3 || !f.every((x) => /^[TF]$/i.test(x))) fail(`atom ${i + 1} needs three T/F selective-dynamics flags`);
      flags.push(f.map((x) => /^t/i.test(x)) as [boolean, boolean, boolean]);
    }
  }
  // Anything after the positions (velocities, predictor-corrector data in a
  // CONTCAR) is ignored on purpose: it does not describe the structure.

  if (speciesAfterCoordinates) {
    const NO_SPECIES =
      "VASP 4 file without species names: put the element symbols on the line before the counts, on the first line, or after each atom's coordinates";
    if (trailing.every((t) => !t.el)) fail(NO_SPECIES, countsLine);
    let at = 0;
    speciesNames = counts.map((c) => {
      const block = trailing.slice(at, at + c);
      at += c;
      const el = block[0]?.el;
      if (!el) fail(NO_SPECIES, block[0]?.line ?? countsLine);
      const odd = block.find((t) => t.el !== el);
      if (odd) fail(`VASP 4 file: atom symbols after the coordinates do not follow the counts (expected ${el})`, odd.line);
      return el!;
    });
    warnings.push('VASP 4 file: species read from the symbols after the coordinates');
  }
  const species: string[] = [];
  counts.forEach((c, k) => {
    for (let i = 0; i < c; i++) species.push(speciesNames[k]);
  });

  return new Structure({
    lattice,
    species,
    frac,
    title: comment,
    properties: selective ? { selectiveDynamics: flags } : {},
    warnings,
  });
}

/** Writes a VASP 5 POSCAR in Direct coordinates, species grouped in order of first appearance. */
export function writePoscar(s: Structure): string {
  // POSCAR has no occupancies: a mixed or partial site would become whole
  // atoms stacked on one position.
  if (s.hasPartialOccupancy)
    throw new WriteError(`${s.title || 'the structure'} has partially occupied sites, which a POSCAR cannot hold; write CIF or extended XYZ instead`);
  const order: string[] = [];
  for (const el of s.species) if (!order.includes(el)) order.push(el);
  const indices = order.flatMap((el) => s.species.flatMap((x, i) => (x === el ? [i] : [])));
  const flags = s.properties.selectiveDynamics as [boolean, boolean, boolean][] | undefined;
  const selective = Array.isArray(flags) && flags.length === s.numSites;
  const num = (x: number) => x.toFixed(10).padStart(16);
  const out: string[] = [];
  out.push((s.title || s.species.join(' ')).replace(/\n/g, ' '));
  out.push('1.0');
  for (const row of s.lattice.matrix) out.push(`  ${row.map(num).join(' ')}`);
  out.push(`  ${order.join(' ')}`);
  out.push(`  ${order.map((el) => s.species.filter((x) => x === el).length).join(' ')}`);
  if (selective) out.push('Selective dynamics');
  out.push('Direct');
  for (const i of indices) {
    const f = s.frac[i].map(num).join(' ');
    out.push(selective ? `${f} ${flags[i].map((b) => (b ? 'T' : 'F')).join(' ')}` : `${f}`);
  }
  return out.join('\n') + '\n';
}
