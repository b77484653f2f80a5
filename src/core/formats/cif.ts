import { elementFromLabel } from '../elements';
import { composition } from '../formula';
import { Lattice } from '../lattice';
import { type Vec3, det, norm } from '../math3';
import { Structure, wrapFrac } from '../structure';
import { ParseError } from './errors';
import { checkAtomCount, checkCell, checkFrac } from './sanity';
import { operationsForSpaceGroup } from './space-group-ops';
import { type SymOp, applySymop, composeSymops, isIdentity, parseMagneticSymop, parseSymop, transformMoment } from './symops';

/**
 * Crystallographic Information File (CIF 1.1) reader and P1 writer.
 *
 * Syntax follows the CIF 1.1 specification (IUCr, "CIF version 1.1 working
 * specification", https://www.iucr.org/resources/cif/spec/version1.1):
 * '#' comments, bare / '...' / "..." values, ';' text fields at the start of
 * a line, loop_, data_ blocks, save_ frames, case-insensitive tags. DDLm /
 * mmCIF style tags with a dot ('_cell.length_a') are accepted as aliases of
 * the underscore form, which costs nothing and reads simple mmCIF files.
 */

export interface CifReadOptions {
  /**
   * Two symmetry images of the same element closer than this (Å, periodic
   * minimum image) are the same atom. 0.01 Å is far below any real bond
   * yet above the rounding in coordinates printed to 4-5 decimals.
   */
  mergeTolerance?: number;
}

const DEFAULT_MERGE_TOLERANCE = 0.01;

/**
 * Reads every data block that describes a crystal (a cell and atom sites
 * with coordinates); blocks without atoms (publication data, dictionaries)
 * are skipped. Any error anywhere throws a ParseError, so an import never
 * half-succeeds.
 */
export function readCif(text: string, fileName: string, options: CifReadOptions = {}): Structure[] {
  if (text.trim() === '') throw new ParseError(fileName, 1, 'file is empty');
  const tokens = tokenize(text, fileName);
  const blocks = parseBlocks(tokens, fileName);
  if (blocks.length === 0) throw new ParseError(fileName, 1, 'no data_ block found (is this a CIF file?)');
  const tol = options.mergeTolerance ?? DEFAULT_MERGE_TOLERANCE;
  const structures: Structure[] = [];
  for (const block of blocks) {
    const s = blockToStructure(block, fileName, tol);
    if (s) structures.push(s);
  }
  if (structures.length === 0) {
    const what = blocks.length === 1 ? `data block '${blocks[0].name}' has` : `none of the ${blocks.length} data blocks has`;
    throw new ParseError(fileName, blocks[0].line, `${what} no atom sites with coordinates (_atom_site_fract_x/y/z or _atom_site_Cartn_x/y/z)`);
  }
  return structures;
}

// ---------------------------------------------------------------------------
// Tokenizer

type TokenKind = 'data' | 'loop' | 'save' | 'global' | 'stop' | 'tag' | 'value';

interface Token {
  kind: TokenKind;
  /** Tag name, value text, or block / frame name after 'data_' / 'save_'. */
  text: string;
  /** 1-based line where the token starts. */
  line: number;
  /** Quoted and text-field values are strings even when they read '?' or '.'. */
  quoted: boolean;
}

function tokenize(text: string, file: string): Token[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  const tokens: Token[] = [];
  for (let i = 0; i < lines.length; i++) {
    let start = 0;
    if (lines[i].startsWith(';')) {
      const field = readTextField(lines, i, file);
      tokens.push({ kind: 'value', text: field.text, line: i + 1, quoted: true });
      // The closing ';' line may carry more tokens after the semicolon.
      i = field.closingLine;
      start = 1;
    }
    tokenizeLine(lines[i], start, i + 1, file, tokens);
  }
  return tokens;
}

/**
 * A text field runs from a ';' in column 1 to the next line that starts
 * with ';'. Its value is everything in between; text after the opening
 * semicolon belongs to it, and a blank remainder is dropped so the common
 * ";\n text\n;" layout yields just " text".
 */
function readTextField(lines: string[], open: number, file: string): { text: string; closingLine: number } {
  const parts = [lines[open].slice(1)];
  let i = open + 1;
  while (i < lines.length && !lines[i].startsWith(';')) parts.push(lines[i++]);
  if (i >= lines.length) {
    throw new ParseError(file, open + 1, "text field opened with ';' is never closed (it needs a line starting with ';')");
  }
  if (parts[0].trim() === '') parts.shift();
  return { text: parts.join('\n'), closingLine: i };
}

const isSpace = (ch: string): boolean => ch === ' ' || ch === '\t' || ch === '\v' || ch === '\f';

function tokenizeLine(line: string, start: number, lineNo: number, file: string, out: Token[]): void {
  let pos = start;
  while (pos < line.length) {
    const ch = line[pos];
    if (isSpace(ch)) {
      pos++;
    } else if (ch === '#') {
      return; // A comment runs to the end of the line.
    } else if (ch === "'" || ch === '"') {
      const end = closingQuote(line, pos);
      if (end < 0) {
        const shown = line.slice(pos, pos + 30);
        throw new ParseError(file, lineNo, `quoted string ${shown}${line.length - pos > 30 ? '…' : ''} is not closed on this line`);
      }
      out.push({ kind: 'value', text: line.slice(pos + 1, end), line: lineNo, quoted: true });
      pos = end + 1;
    } else {
      let end = pos;
      while (end < line.length && !isSpace(line[end])) end++;
      out.push(classifyWord(line.slice(pos, end), lineNo));
      pos = end;
    }
  }
}

/**
 * In CIF 1.1 a quote closes a string only when followed by whitespace or
 * the end of the line, so 'O'Neil' or 'x', y' style values stay whole.
 */
function closingQuote(line: string, open: number): number {
  const q = line[open];
  for (let i = line.indexOf(q, open + 1); i >= 0; i = line.indexOf(q, i + 1)) {
    if (i + 1 >= line.length || isSpace(line[i + 1])) return i;
  }
  return -1;
}

function classifyWord(word: string, line: number): Token {
  const lower = word.toLowerCase();
  const token = (kind: TokenKind, text: string): Token => ({ kind, text, line, quoted: false });
  if (lower.startsWith('data_')) return token('data', word.slice(5));
  if (lower.startsWith('save_')) return token('save', word.slice(5));
  if (lower === 'loop_') return token('loop', word);
  if (lower === 'global_') return token('global', word);
  if (lower === 'stop_') return token('stop', word);
  if (word.startsWith('_')) return token('tag', word);
  return token('value', word);
}

// ---------------------------------------------------------------------------
// Blocks: tag -> column of values

interface Column {
  /** Tag as written, for messages. */
  tag: string;
  values: Token[];
  /** Line of the tag itself. */
  line: number;
  /** Loop number within the block, or -1 for a single (unlooped) item. */
  loop: number;
}

interface Block {
  name: string;
  line: number;
  /** Keyed by normalised tag (see normTag). */
  columns: Map<string, Column>;
  loopCount: number;
  /** Found while parsing the block (repeated tags), passed on to its structure. */
  warnings: string[];
}

/** Case-insensitive, and '_cell.length_a' (DDLm / mmCIF) equals '_cell_length_a'. */
const normTag = (tag: string): string => tag.toLowerCase().replace(/\./g, '_');

function parseBlocks(tokens: Token[], file: string): Block[] {
  const blocks: Block[] = [];
  let block: Block | undefined;
  // Save frames (dictionaries) and global_ blocks are checked for syntax
  // but never hold a structure, so their items go to a throwaway block.
  let sink: Block | undefined;
  let globalSink: Block | undefined;
  const throwaway = (t: Token): Block => ({ name: t.text, line: t.line, columns: new Map(), loopCount: 0, warnings: [] });
  let i = 0;
  while (i < tokens.length) {
    const t = tokens[i];
    if (t.kind === 'data') {
      block = { name: t.text, line: t.line, columns: new Map(), loopCount: 0, warnings: [] };
      blocks.push(block);
      sink = globalSink = undefined;
      i++;
      continue;
    }
    if (t.kind === 'global') {
      sink = globalSink = throwaway(t);
      i++;
      continue;
    }
    if (t.kind === 'save') {
      // 'save_name' opens a frame, a bare 'save_' closes it.
      sink = t.text !== '' ? throwaway(t) : globalSink;
      i++;
      continue;
    }
    if (t.kind === 'stop') {
      i++; // Reserved by STAR, unused in CIF.
      continue;
    }
    const target = sink ?? block;
    if (!target) {
      throw new ParseError(file, t.line, `'${t.text}' appears before the first data_ block (is this a CIF file?)`);
    }
    if (t.kind === 'loop') {
      i = parseLoop(tokens, i, target, file);
    } else if (t.kind === 'tag') {
      const value = tokens[i + 1];
      if (!value || value.kind !== 'value') throw new ParseError(file, t.line, `tag ${t.text} has no value`);
      addColumn(target, { tag: t.text, values: [value], line: t.line, loop: -1 }, file);
      i += 2;
    } else {
      throw new ParseError(file, t.line, `value '${t.text}' does not belong to any tag (an unquoted value containing spaces needs quotes)`);
    }
  }
  return blocks;
}

/** Parses loop_ at tokens[start] into target; returns the index after the loop. */
function parseLoop(tokens: Token[], start: number, target: Block, file: string): number {
  const loopToken = tokens[start];
  let i = start + 1;
  const tags: Token[] = [];
  while (i < tokens.length && tokens[i].kind === 'tag') tags.push(tokens[i++]);
  if (tags.length === 0) throw new ParseError(file, loopToken.line, 'loop_ is not followed by any tags');
  const values: Token[] = [];
  while (i < tokens.length && tokens[i].kind === 'value') values.push(tokens[i++]);
  if (values.length % tags.length !== 0) {
    const rest = values.length % tags.length;
    throw new ParseError(
      file,
      misalignedLine(values, tags.length),
      `loop starting at line ${loopToken.line} has ${values.length} values for ${tags.length} columns: ` +
        `the last row has only ${rest} of ${tags.length} values (a missing value, or an unquoted value containing spaces?)`,
    );
  }
  const loop = target.loopCount++;
  tags.forEach((tag, c) => {
    const column = values.filter((_, k) => k % tags.length === c);
    addColumn(target, { tag: tag.text, values: column, line: tag.line, loop }, file);
  });
  return i;
}

/**
 * Best guess at where a loop went wrong. When most lines hold exactly one
 * row (the usual layout), the first line with a different count is the
 * culprit; otherwise all we know is that the loop ends short.
 */
function misalignedLine(values: Token[], width: number): number {
  const perLine = new Map<number, number>();
  for (const v of values) perLine.set(v.line, (perLine.get(v.line) ?? 0) + 1);
  const counts = [...perLine.entries()];
  const fullRows = counts.filter(([, n]) => n === width).length;
  if (fullRows * 2 > counts.length) {
    const bad = counts.find(([, n]) => n !== width);
    if (bad) return bad[0];
  }
  return values.length > 0 ? values[values.length - 1].line : 1;
}

function addColumn(block: Block, column: Column, file: string): void {
  const key = normTag(column.tag);
  const previous = block.columns.get(key);
  if (previous) {
    // DDLm names that meet only after '.' → '_' ('_diffrn_radiation.wavelength_id'
    // vs '_diffrn_radiation_wavelength.id') are different tags: keep both.
    if (previous.tag.toLowerCase() !== column.tag.toLowerCase()) {
      block.columns.set(column.tag.toLowerCase(), column);
      return;
    }
    // A tag given twice as a single value: the last one counts, as pymatgen
    // reads it, except a cell parameter given two different values: that is
    // an ambiguous structure, and guessing would build a wrong one silently.
    const same = previous.values.length === 1 && column.values.length === 1 && previous.values[0].text === column.values[0].text;
    const defining = (CELL_TAGS as readonly string[]).includes(key);
    if (previous.loop < 0 && column.loop < 0 && (same || !defining)) {
      block.warnings.push(`tag ${column.tag} appears twice (lines ${previous.line} and ${column.line}); the last value was kept`);
      block.columns.set(key, column);
      return;
    }
    throw new ParseError(file, column.line, `tag ${column.tag} appears twice in one data block (first at line ${previous.line})`);
  }
  block.columns.set(key, column);
}

// ---------------------------------------------------------------------------
// Values

/** True for the CIF null values: '?' (unknown) and '.' (inapplicable), unquoted. */
const isNull = (t: Token): boolean => !t.quoted && (t.text === '?' || t.text === '.');

/**
 * A CIF number: '5.431(2)' is 5.431 with its standard uncertainty dropped;
 * exponents come before the uncertainty ('1.2e3(4)'). Returns undefined
 * for null values and NaN for anything that is not a number.
 */
function cifNumber(t: Token): number | undefined {
  if (isNull(t)) return undefined;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?:\(\d+\))?$/.exec(t.text.trim());
  return m ? Number(m[1]) : NaN;
}

function requireNumber(t: Token, file: string, what: string): number {
  const x = cifNumber(t);
  if (x === undefined) throw new ParseError(file, t.line, `${what} is unknown ('${t.text}')`);
  if (!Number.isFinite(x)) throw new ParseError(file, t.line, `${what} is not a number: '${t.text}'`);
  return x;
}

/** First non-null value of the first tag present, as text. */
function firstText(block: Block, tags: string[]): string | undefined {
  for (const tag of tags) {
    const v = block.columns.get(tag)?.values[0];
    if (v && !isNull(v) && v.text.trim() !== '') return v.text.trim().replace(/\s+/g, ' ');
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Data block -> Structure

interface AsymSite {
  /** Snapping tolerance per coordinate: half a unit of its last written decimal (capped), see snapThirds. */
  snap?: Vec3;
  species: string;
  label: string;
  frac: Vec3;
  occupancy: number;
}

function blockToStructure(block: Block, file: string, tol: number): Structure | undefined {
  const coordTags = atomCoordinateTags(block);
  if (!coordTags) return undefined;
  const lattice = readCell(block, file);
  const warnings: string[] = [...block.warnings];
  const sites = readAtomSites(block, coordTags, lattice, file, warnings);
  if (sites.length === 0) return undefined;

  let ops = readSymops(block, file);
  const spaceGroup = readSpaceGroup(block);
  if (ops.length === 0 && spaceGroup.named && !spaceGroup.isP1) {
    // No operator loop: the operations of the named group, from moyo's tables.
    const fromName = operationsForSpaceGroup({ hall: spaceGroup.hall, hm: spaceGroup.name, number: spaceGroup.number }, lattice);
    if (fromName) {
      ops = fromName.ops;
      warnings.push(`the file lists no symmetry operations; they were taken from the ${fromName.via}`);
    } else {
      warnings.push(
        `space group '${spaceGroup.label}' is named but the file lists no symmetry operations; ` +
          `it was not expanded, so only the ${sites.length} listed sites were read`,
      );
    }
  }
  const symmetric = ops.some((op) => !isIdentity(op));
  if (symmetric) for (const s of sites) s.frac = s.frac.map((x, k) => snapThirds(x, s.snap?.[k])) as Vec3;

  const partial = sites.filter((s) => s.occupancy < 1);
  if (partial.length > 0) {
    warnings.push(
      `partial occupancy on ${partial.length} site${partial.length > 1 ? 's' : ''} (${listLabels(partial.map((s) => s.label))}): ` +
        'kept as read; tools that need ordered structures may treat them as full',
    );
  }
  checkAtomCount(sites.length * Math.max(1, ops.length), file, block.line);
  const expanded = expandSites(sites, ops.length > 0 ? ops : [parseSymop('x,y,z')], lattice, tol);
  warnings.push(...expanded.warnings);

  const properties: Record<string, unknown> = { cifBlock: block.name };
  const moments = readMoments(block, file);
  if (moments) {
    properties.magneticMoments = moments;
    // Every site's own moment: its asymmetric-unit moment carried by the operation that made it (zero where none is given).
    const lengths = lattice.abc as Vec3;
    properties.siteMagneticMoments = expanded.labels.map((label, i) => {
      const m = moments[label];
      return m ? transformMoment(expanded.ops[i], m, lengths).map((x) => Math.round(x * 1e6) / 1e6 + 0) : [0, 0, 0];
    });
  }
  if (spaceGroup.name) properties.cifSpaceGroup = spaceGroup.name;
  if (spaceGroup.hall) properties.cifSpaceGroupHall = spaceGroup.hall;
  if (spaceGroup.number !== undefined) properties.cifSpaceGroupNumber = spaceGroup.number;

  const title = firstText(block, ['_chemical_formula_sum', '_chemical_formula_structural']) ?? (block.name !== '' ? block.name : file);
  return new Structure({
    lattice,
    species: expanded.species,
    frac: expanded.frac,
    occupancy: expanded.occupancy,
    labels: expanded.labels,
    title,
    properties,
    warnings,
  });
}

/** Coordinate tags of the atom-site table, fractional preferred; undefined when the block has no atoms. */
function atomCoordinateTags(block: Block): string[] | undefined {
  for (const prefix of ['_atom_site_fract_', '_atom_site_cartn_']) {
    const x = block.columns.get(`${prefix}x`);
    if (x && x.values.length > 0) return ['x', 'y', 'z'].map((a) => prefix + a);
  }
  return undefined;
}

const CELL_TAGS = ['_cell_length_a', '_cell_length_b', '_cell_length_c', '_cell_angle_alpha', '_cell_angle_beta', '_cell_angle_gamma'] as const;

function readCell(block: Block, file: string): Lattice {
  const values = CELL_TAGS.map((tag) => {
    const column = block.columns.get(tag);
    if (!column) {
      throw new ParseError(file, block.line, `data block '${block.name}' has atom sites but no ${tag} (all six cell parameters are required)`);
    }
    if (column.values.length !== 1) {
      throw new ParseError(file, column.line, `${column.tag} must have exactly one value, found ${column.values.length}`);
    }
    return requireNumber(column.values[0], file, column.tag);
  });
  const first = block.columns.get(CELL_TAGS[0]);
  const line = first ? first.values[0].line : block.line;
  let lattice: Lattice;
  try {
    const [a, b, c, alpha, beta, gamma] = values;
    lattice = Lattice.fromParameters(a, b, c, alpha, beta, gamma);
  } catch (e) {
    throw new ParseError(file, line, `invalid cell: ${errorText(e)}`);
  }
  checkCell(lattice, file, line);
  return lattice;
}

/**
 * Reads the asymmetric unit. Every per-atom column must come from the same
 * loop as the x coordinate (or all be single items for a one-atom file),
 * otherwise rows could be paired with the wrong atoms.
 */
function readAtomSites(block: Block, coordTags: string[], lattice: Lattice, file: string, warnings: string[]): AsymSite[] {
  const xs = block.columns.get(coordTags[0])!;
  const sameTable = (tag: string, required: boolean): Column | undefined => {
    const column = block.columns.get(tag);
    if (!column) {
      if (required) throw new ParseError(file, xs.line, `${xs.tag} is given but ${tag} is missing`);
      return undefined;
    }
    if (column.loop !== xs.loop || column.values.length !== xs.values.length) {
      throw new ParseError(file, column.line, `${column.tag} is not in the same loop as ${xs.tag}`);
    }
    return column;
  };
  const [, ys, zs] = coordTags.map((tag) => sameTable(tag, true)!);
  const labels = sameTable('_atom_site_label', false);
  const types = sameTable('_atom_site_type_symbol', false);
  const occupancies = sameTable('_atom_site_occupancy', false);
  const flags = sameTable('_atom_site_calc_flag', false);
  const cartesian = coordTags[0].startsWith('_atom_site_cartn');

  const sites: AsymSite[] = [];
  const dummies: string[] = [];
  const centroids: string[] = [];
  const vacant: string[] = [];
  const water: string[] = [];
  const deuterium: string[] = [];
  const dotZero: string[] = [];
  const mixedSites: string[] = [];
  for (let r = 0; r < xs.values.length; r++) {
    const labelToken = labels?.values[r];
    const kind = siteElement(labelToken, types?.values[r], r, xs.values[r].line, file);
    const fallback = 'dummy' in kind ? 'dummy' : 'mixed' in kind ? kind.mixed.map((m) => m.element).join('') : kind.element;
    const label = labelToken && !isNull(labelToken) ? labelToken.text : `${fallback}${r + 1}`;
    // Dummy atoms mark positions (ring centroids, ...), not atoms.
    if (flags && flags.values[r].text.toLowerCase() === 'dum') {
      dummies.push(label);
      continue;
    }
    if ('dummy' in kind) {
      centroids.push(label);
      continue;
    }
    if ('mixed' in kind) mixedSites.push(label);
    const parts = 'mixed' in kind ? kind.mixed : [{ element: kind.element, fraction: 1 }];
    if ('note' in kind && kind.note === 'water') water.push(label);
    if ('note' in kind && kind.note === 'deuterium') deuterium.push(label);
    const what = (c: Column) => `${c.tag} of atom ${label}`;
    // ICSD writes '.' for a coordinate of 0.
    const coordinate = (c: Column) => {
      const t = c.values[r];
      if (!t.quoted && t.text === '.') {
        dotZero.push(label);
        return 0;
      }
      return requireNumber(t, file, what(c));
    };
    const p = [xs, ys, zs].map(coordinate) as Vec3;
    const occupancy = occupancies ? readOccupancy(occupancies.values[r], file, what(occupancies)) : 1;
    if (occupancy === 0) {
      vacant.push(label);
      continue;
    }
    // Cartesian CIF coordinates use the default axes of
    // _atom_sites_Cartn_transform_axes ('a parallel to x; b in the plane of
    // x & y'), which is the orientation Lattice.fromParameters builds.
    const frac = cartesian ? lattice.cartToFrac(p) : p;
    checkFrac(frac, file, xs.values[r].line, `atom ${label}`);
    // A mixed site becomes one site per element at the same position.
    const snap = cartesian ? undefined : ([xs, ys, zs].map((c) => snapTolerance(c.values[r].text)) as Vec3);
    for (const part of parts)
      sites.push({
        species: part.element,
        label: parts.length > 1 ? `${label}:${part.element}` : label,
        frac: [...frac] as Vec3,
        occupancy: occupancy * part.fraction,
        snap,
      });
  }
  if (dummies.length > 0) warnings.push(`skipped ${dummies.length} dummy site(s) (${listLabels(dummies)}) flagged 'dum'`);
  if (centroids.length > 0) warnings.push(`skipped ${centroids.length} dummy or centroid site(s) (${listLabels(centroids)}): not atoms`);
  if (mixedSites.length > 0)
    warnings.push(`read ${mixedSites.length} mixed site(s) (${listLabels(mixedSites)}) as one site per element with the given fractions`);
  if (water.length > 0) warnings.push(`read ${water.length} water label(s) (${listLabels(water)}) as oxygen`);
  if (deuterium.length > 0) warnings.push(`read ${deuterium.length} deuterium site(s) (${listLabels(deuterium)}) as hydrogen`);
  if (dotZero.length > 0)
    warnings.push(`read '.' as a coordinate of 0 for ${dotZero.length} site(s) (${listLabels([...new Set(dotZero)])}), as ICSD writes it`);
  if (vacant.length > 0) warnings.push(`skipped ${vacant.length} site(s) with zero occupancy (${listLabels(vacant)})`);
  return sites;
}

/**
 * The element of one site: from _atom_site_type_symbol ('Fe2+', 'O2-',
 * 'Fe') when present and known, else from the label ('Fe1', 'O2a').
 */
/** What a site's label or type symbol says it is: an element (perhaps with a note), a mixed site, or a dummy position to skip. */
type SiteKind = { element: string; note?: 'water' | 'deuterium' } | { dummy: true } | { mixed: { element: string; fraction: number }[] };

/**
 * Pauling File type symbols for mixed sites: '0.8Nb + 0.2Zr',
 * '0.56(4)Mg + 0.29(3)Ta + 0.15(5)Zr' (uncertainties dropped). Undefined
 * for anything else.
 */
function mixedSymbol(text: string): { element: string; fraction: number }[] | undefined {
  if (!text.includes('+') || !/^\s*[\d.]/.test(text)) return undefined;
  const parts = text.split('+').map((p) => /^\s*(\d*\.?\d+)(?:\(\d+\))?\s*([A-Z][a-z]?)\s*$/.exec(p));
  if (parts.some((m) => !m)) return undefined;
  const out = parts.map((m) => ({ element: elementFromLabel(m![2]) ?? '', fraction: Number(m![1]) }));
  return out.every((x) => x.element && x.fraction > 0 && x.fraction <= 1) ? out : undefined;
}

/**
 * Labels that are not element symbols, as crystallographers write them:
 * water oxygens ('Wat1', 'Wat(5)', 'WatOW', which the symbol rule would
 * read as tungsten), deuterium ('D', 'D0+', 'DWH1': hydrogen for every
 * purpose here), and dummy or centroid positions ('Cg1' ring centroids,
 * 'Q1' SHELX difference peaks, 'dum'), which are not atoms. 'D' counts only
 * when no lower-case letter follows it (Dy, Db, Ds are elements).
 */
function specialLabel(text: string): { element: string; note: 'water' | 'deuterium' } | { dummy: true } | undefined {
  const t = text.trim();
  if (/^wat/i.test(t)) return { element: 'O', note: 'water' };
  if (/^(cg\d|q\d|dum(?![a-z])|du\d)/i.test(t) || /^(cg|q|dum|du|x)$/i.test(t)) return { dummy: true };
  if (/^D(?![a-z])/.test(t)) return { element: 'H', note: 'deuterium' };
  return undefined;
}

function siteElement(label: Token | undefined, type: Token | undefined, row: number, line: number, file: string): SiteKind {
  if (type && !isNull(type)) {
    const mixed = mixedSymbol(type.text);
    if (mixed) return { mixed };
    const el = elementFromLabel(type.text);
    const special = specialLabel(type.text);
    if (special && ('dummy' in special || !el || special.note === 'deuterium')) return special;
    if (!el) throw new ParseError(file, type.line, `unknown element '${type.text}' in _atom_site_type_symbol`);
    return { element: el };
  }
  if (label && !isNull(label)) {
    const special = specialLabel(label.text);
    if (special) return special;
    const el = elementFromLabel(label.text);
    if (!el) {
      throw new ParseError(file, label.line, `unknown element in atom label '${label.text}' (and no _atom_site_type_symbol to say which)`);
    }
    return { element: el };
  }
  throw new ParseError(file, line, `atom site ${row + 1} has neither _atom_site_type_symbol nor _atom_site_label`);
}

/**
 * Occupancy in [0, 1]; unknown means fully occupied. Refinements sometimes
 * print 1.001 or so, which is rounding, so up to 5% over is clamped; more is
 * an error in the file.
 */
function readOccupancy(t: Token, file: string, what: string): number {
  const x = cifNumber(t);
  if (x === undefined) return 1;
  if (!Number.isFinite(x)) throw new ParseError(file, t.line, `${what} is not a number: '${t.text}'`);
  if (x < 0 || x > 1.05) throw new ParseError(file, t.line, `${what} is ${t.text}; it must be between 0 and 1`);
  return Math.min(x, 1);
}

function readSymops(block: Block, file: string): SymOp[] {
  const magnetic = readMagneticSymops(block, file);
  if (magnetic) return magnetic;
  const column = block.columns.get('_space_group_symop_operation_xyz') ?? block.columns.get('_symmetry_equiv_pos_as_xyz');
  if (!column) return [];
  return column.values.map((t) => {
    try {
      return parseSymop(t.text);
    } catch (e) {
      throw new ParseError(file, t.line, errorText(e));
    }
  });
}

/**
 * Magnetic CIF (.mcif): the operations are every magnetic operation
 * (_space_group_symop_magn_operation.xyz) combined with every centring
 * translation (_space_group_symop_magn_centering.xyz), each with a
 * time-reversal sign that positions ignore. Undefined when the block has none.
 */
function readMagneticSymops(block: Block, file: string): SymOp[] | undefined {
  const ops = block.columns.get('_space_group_symop_magn_operation_xyz');
  if (!ops) return undefined;
  const parse = (t: Token) => {
    try {
      return parseMagneticSymop(t.text).op;
    } catch (e) {
      throw new ParseError(file, t.line, errorText(e));
    }
  };
  const centring = block.columns.get('_space_group_symop_magn_centering_xyz')?.values.map(parse) ?? [parseSymop('x,y,z')];
  const operations = ops.values.map(parse);
  return centring.flatMap((c) => operations.map((g) => composeSymops(c, g)));
}

/**
 * Magnetic moments per asymmetric-unit label (in Bohr magnetons along the
 * crystal axes, _atom_site_moment.crystalaxis_x/y/z), for the structure's
 * properties. Each expanded site's own moment is in siteMagneticMoments
 * (the reader carries it with the site's operation).
 */
function readMoments(block: Block, file: string): Record<string, [number, number, number]> | undefined {
  const labels = block.columns.get('_atom_site_moment_label');
  const axes = ['x', 'y', 'z'].map((a) => block.columns.get(`_atom_site_moment_crystalaxis_${a}`) ?? block.columns.get(`_atom_site_moment_crystalaxis_m${a}`));
  if (!labels || axes.some((c) => !c)) return undefined;
  const out: Record<string, [number, number, number]> = {};
  labels.values.forEach((t, r) => {
    out[t.text] = axes.map((c) => requireNumber(c!.values[r], file, `${c!.tag} of ${t.text}`)) as [number, number, number];
  });
  return out;
}

interface SpaceGroupInfo {
  name?: string;
  hall?: string;
  number?: number;
  named: boolean;
  isP1: boolean;
  label: string;
}

function readSpaceGroup(block: Block): SpaceGroupInfo {
  const name = firstText(block, ['_space_group_name_h-m_alt', '_symmetry_space_group_name_h-m']);
  const hall = firstText(block, ['_space_group_name_hall', '_symmetry_space_group_name_hall']);
  const numberText = firstText(block, ['_space_group_it_number', '_symmetry_int_tables_number']);
  const number = numberText !== undefined && /^\d+$/.test(numberText) ? Number(numberText) : undefined;
  const squash = (s: string | undefined) => s?.replace(/[\s_]/g, '').toLowerCase();
  const isP1 = (name === undefined || squash(name) === 'p1') && (hall === undefined || squash(hall) === 'p1') && (number === undefined || number === 1);
  return {
    name,
    hall,
    number,
    named: name !== undefined || hall !== undefined || number !== undefined,
    isP1,
    label: name ?? hall ?? `number ${number}`,
  };
}

/**
 * Coordinates such as 1/3 are printed as 0.3333 or 0.333; symmetry images
 * of such a rounded value land up to 1e-3 of a cell apart and would not
 * merge in large cells. Only thirds and sixths need this, as every other
 * special position (1/2, 1/4, 1/8) is exact in decimal.
 */
function snapThirds(x: number, tol = SNAP_MAX): number {
  const k = Math.round(x * 6);
  return k % 3 !== 0 && Math.abs(x - k / 6) < tol ? k / 6 : x;
}

const SNAP_MAX = 4e-4;

/**
 * How far a written coordinate may be from a third and still mean it: half
 * a unit of its last decimal ('0.333' ± 5e-4, '0.3333(2)' ± 5e-5), never
 * more than SNAP_MAX. So '0.3336' (4 decimals) stays 0.3336: snapping it
 * would move a real coordinate by 2.7e-4.
 */
function snapTolerance(text: string): number {
  const digits = /\.(\d+)/.exec(text.split('(')[0].split(/[eE]/)[0])?.[1].length ?? 0;
  return Math.min(SNAP_MAX, 0.5 * 10 ** -digits + 1e-9);
}

interface ExpandedSites {
  species: string[];
  labels: string[];
  frac: Vec3[];
  occupancy: number[];
  /** The operation that made each site from its asymmetric-unit site (for its magnetic moment). */
  ops: SymOp[];
  warnings: string[];
}

/**
 * Applies every operation to every asymmetric-unit site, wraps into the
 * cell, and keeps one atom per position and element. Different elements at
 * one position are kept, as that is how CIF writes mixed occupancy.
 */
function expandSites(sites: AsymSite[], ops: SymOp[], lattice: Lattice, tol: number): ExpandedSites {
  const out: ExpandedSites = { species: [], labels: [], frac: [], occupancy: [], ops: [], warnings: [] };
  const index = new SiteIndex(lattice, tol);
  const coincident = new Set<string>();
  /** (asymmetric site, expanded site) pairs already merged, so a special position adds its occupancy once. */
  const merged = new Set<string>();
  sites.forEach((site, k) => {
    for (const op of ops) {
      const f = wrapFrac(applySymop(op, site.frac));
      const same = index.near(f).find((j) => out.species[j] === site.species);
      if (same !== undefined) {
        // Images of one site coincide on special positions (expected). A
        // different label is a split site (Cl1 0.773 + Cl1' 0.227) or one
        // atom listed twice: the occupancies add up, capped at 1, as
        // pymatgen merges them, so the composition matches the formula.
        if (out.labels[same] !== site.label && !merged.has(`${k}:${same}`)) {
          merged.add(`${k}:${same}`);
          coincident.add(`${site.label} = ${out.labels[same]}`);
          out.occupancy[same] = Math.min(1, out.occupancy[same] + site.occupancy);
        }
        continue;
      }
      index.add(f);
      out.species.push(site.species);
      out.labels.push(site.label);
      out.frac.push(f);
      out.occupancy.push(site.occupancy);
      out.ops.push(op);
    }
  });
  if (coincident.size > 0) {
    out.warnings.push(`sites of one element at the same position were merged, occupancies added (${listLabels([...coincident])})`);
  }
  const crowded = overfilledPositions(out, index);
  if (crowded.length > 0) {
    out.warnings.push(`different elements share a position with total occupancy above 1 (${listLabels(crowded)})`);
  }
  return out;
}

/** Pairs of sites closer than the tolerance whose occupancies add up to more than 1. */
function overfilledPositions(sites: ExpandedSites, index: SiteIndex): string[] {
  const pairs = new Set<string>();
  sites.frac.forEach((f, i) => {
    for (const j of index.near(f)) {
      if (j > i && sites.occupancy[i] + sites.occupancy[j] > 1.01) pairs.add(`${sites.labels[i]} and ${sites.labels[j]}`);
    }
  });
  return [...pairs];
}

/**
 * Spatial hash of wrapped fractional positions for "is there already an
 * atom within tol" queries, so expanding large cells stays linear rather
 * than quadratic in the number of atoms.
 *
 * Bins along axis k are at least tol thick measured perpendicular to the
 * opposite faces (height_k / n_k >= tol), and a Cartesian distance is never
 * shorter than its component along a face normal, so two positions within
 * tol always sit in the same or adjacent bins.
 */
class SiteIndex {
  private readonly bins = new Map<number, number[]>();
  private readonly positions: Vec3[] = [];
  private readonly counts: [number, number, number];

  constructor(
    private readonly lattice: Lattice,
    private readonly tol: number,
  ) {
    const h = lattice.heights;
    this.counts = [0, 1, 2].map((k) => Math.max(1, Math.min(64, Math.floor(h[k] / tol)))) as [number, number, number];
  }

  add(f: Vec3): void {
    const key = this.key(this.binOf(f));
    const list = this.bins.get(key);
    if (list) list.push(this.positions.length);
    else this.bins.set(key, [this.positions.length]);
    this.positions.push(f);
  }

  /** Indices (in insertion order) of stored positions within tol of f, which must be wrapped. */
  near(f: Vec3): number[] {
    const b = this.binOf(f);
    const n = this.counts;
    const keys = new Set<number>();
    for (let i = -1; i <= 1; i++) {
      for (let j = -1; j <= 1; j++) {
        for (let k = -1; k <= 1; k++) {
          keys.add(this.key([mod(b[0] + i, n[0]), mod(b[1] + j, n[1]), mod(b[2] + k, n[2])]));
        }
      }
    }
    const found: number[] = [];
    for (const key of keys) {
      for (const idx of this.bins.get(key) ?? []) if (this.distance(f, this.positions[idx]) < this.tol) found.push(idx);
    }
    return found.sort((x, y) => x - y);
  }

  /**
   * Periodic distance, valid below tol: if the true minimum image is that
   * close, every fractional component of it is below 1/2 in size, so plain
   * rounding of the difference finds it; no search over images is needed.
   */
  private distance(a: Vec3, b: Vec3): number {
    const d: Vec3 = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
    return norm(this.lattice.fracToCart([d[0] - Math.round(d[0]), d[1] - Math.round(d[1]), d[2] - Math.round(d[2])]));
  }

  private binOf(f: Vec3): Vec3 {
    return f.map((x, k) => Math.min(this.counts[k] - 1, Math.max(0, Math.floor(x * this.counts[k])))) as Vec3;
  }

  private key(b: Vec3): number {
    return (b[0] * 64 + b[1]) * 64 + b[2];
  }
}

const mod = (a: number, n: number): number => ((a % n) + n) % n;

/** Up to five labels, then a count, so warnings stay one readable line. */
function listLabels(labels: string[]): string {
  const shown = labels.slice(0, 5).join(', ');
  return labels.length > 5 ? `${shown}, … ${labels.length - 5} more` : shown;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// ---------------------------------------------------------------------------
// Writer

/**
 * Writes a P1 CIF 1.1 (all atoms listed, only the identity operation) in
 * the layout pymatgen and VESTA produce, so any CIF reader accepts it.
 * Coordinates get 10 decimals and cell lengths 10, enough to read back the
 * same structure to well below 1e-8. `name` is the data_ block name.
 */
export function writeCif(s: Structure, name = blockName(s.title)): string {
  const lattice = s.lattice;
  // CIF stores only lengths and angles, i.e. a right-handed cell. Negating
  // all three vectors of a left-handed cell keeps the parameters, makes it
  // right-handed, and with fractional coordinates negated too leaves every
  // atom in place; writing it unchanged would mirror the crystal.
  const flip = det(lattice.matrix) < 0 ? -1 : 1;
  const [a, b, c, alpha, beta, gamma] = lattice.parameters;
  const labels = siteLabels(s);
  const lines: string[] = ['# generated by Lattice Lab', `data_${name}`];
  if (s.pbc.some((p) => !p)) {
    lines.push('# note: the structure is not periodic along every axis; CIF cells always are');
  }
  lines.push(
    item('_symmetry_space_group_name_H-M', "'P 1'"),
    item('_cell_length_a', fixed(a, 10)),
    item('_cell_length_b', fixed(b, 10)),
    item('_cell_length_c', fixed(c, 10)),
    item('_cell_angle_alpha', fixed(alpha, 10)),
    item('_cell_angle_beta', fixed(beta, 10)),
    item('_cell_angle_gamma', fixed(gamma, 10)),
    item('_symmetry_Int_Tables_number', '1'),
    item('_chemical_formula_sum', `'${hillFormula(s)}'`),
    item('_cell_volume', fixed(lattice.volume, 6)),
    'loop_',
    ' _symmetry_equiv_pos_site_id',
    ' _symmetry_equiv_pos_as_xyz',
    "  1  'x, y, z'",
    'loop_',
    ' _atom_site_label',
    ' _atom_site_type_symbol',
    ' _atom_site_fract_x',
    ' _atom_site_fract_y',
    ' _atom_site_fract_z',
    ' _atom_site_occupancy',
  );
  s.frac.forEach((f, i) => {
    const xyz = f.map((x) => fixed(flip * x, 10).padStart(14)).join(' ');
    const occ = fixed(s.occupancy?.[i] ?? 1, 8);
    lines.push(`  ${labels[i].padEnd(6)} ${s.species[i].padEnd(3)} ${xyz}  ${occ}`);
  });
  return lines.join('\n') + '\n';
}

const item = (tag: string, value: string): string => `${tag.padEnd(33)} ${value}`;

/** toFixed without a '-0.000' that would look like a sign error. */
function fixed(x: number, digits: number): string {
  const text = x.toFixed(digits);
  return /^-0\.?0*$/.test(text) ? text.slice(1) : text;
}

/** Several structures in one CIF: each block gets a unique data_ name (a title repeated gets _2, _3, …). */
export function writeCifs(structures: readonly Structure[]): string {
  const used = new Set<string>();
  return structures
    .map((s) => {
      const base = blockName(s.title);
      let name = base;
      for (let k = 2; used.has(name.toLowerCase()); k++) name = `${base}_${k}`;
      used.add(name.toLowerCase());
      return writeCif(s, name);
    })
    .join('\n');
}

/** A data block name is one bare word; keep it recognisable, drop the rest. */
function blockName(title: string): string {
  const name = title
    .trim()
    .replace(/\s+/g, '_')
    .replace(/[^A-Za-z0-9_.+\-()[\]=,]/g, '');
  return name === '' ? 'structure' : name;
}

/**
 * Labels as read when they are unique and safe as bare CIF words (after a
 * symmetry expansion they repeat); otherwise Fe1, Fe2, O1... per element.
 */
function siteLabels(s: Structure): string[] {
  const safe = /^[A-Za-z][A-Za-z0-9_+\-()]*$/;
  const reserved = /^(data_|save_|loop_$|global_$|stop_$)/i;
  if (s.labels && new Set(s.labels).size === s.labels.length && s.labels.every((l) => safe.test(l) && !reserved.test(l))) {
    return [...s.labels];
  }
  const counter = new Map<string, number>();
  return s.species.map((el) => {
    const n = (counter.get(el) ?? 0) + 1;
    counter.set(el, n);
    return `${el}${n}`;
  });
}

/**
 * _chemical_formula_sum in Hill order (C, H, then alphabetical; purely
 * alphabetical without carbon), as the CIF dictionary asks, with explicit
 * counts as pymatgen writes them ('Mo1 S2').
 */
function hillFormula(s: Structure): string {
  const comp = composition(s.species, s.occupancy);
  const els = [...comp.keys()].sort();
  const ordered = comp.has('C') ? ['C', ...(comp.has('H') ? ['H'] : []), ...els.filter((e) => e !== 'C' && e !== 'H')] : els;
  return ordered.map((el) => `${el}${Number(comp.get(el)!.toFixed(4))}`).join(' ');
}
