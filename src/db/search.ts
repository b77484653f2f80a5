import { isElementSymbol } from '../core/elements';
import type { StructureRecord } from './schema';

/**
 * The structure browser's search box. Space-separated terms, all of which
 * must match:
 *   Mo S        element symbols (exact case): the structure contains them
 *   MoS2        anything else: substring of name, formula or space group
 *   sg:194      space group number (sg:P6_3/mmc matches the symbol)
 *   n:3  n<10  n>=48   number of sites
 *   eform<-1  gap>1  ehull<=0.05   predicted properties ("Predict all");
 *               a structure not yet predicted matches none of these
 */
export type Summary = Pick<
  StructureRecord,
  'name' | 'formula' | 'reducedFormula' | 'elements' | 'numSites' | 'spaceGroupNumber' | 'spaceGroupSymbol' | 'createdAt' | 'predicted'
>;

const compare = (op: string, x: number, v: number): boolean =>
  op === '<' ? x < v : op === '>' ? x > v : op === '<=' ? x <= v : op === '>=' ? x >= v : x === v;

type Test = (r: Summary) => boolean;

function parseTerm(term: string): Test {
  const sites = /^n(?:sites)?\s*(<=|>=|<|>|=|:)\s*(\d+)$/i.exec(term);
  if (sites) {
    const [, op, v] = sites;
    const n = Number(v);
    return (r) => compare(op, r.numSites, n);
  }
  const predicted = /^(eform|gap|ehull)\s*(<=|>=|<|>|=|:)\s*(-?\d+(?:\.\d*)?|-?\.\d+)$/i.exec(term);
  if (predicted) {
    const key = predicted[1].toLowerCase() as 'eform' | 'gap' | 'ehull';
    const v = Number(predicted[3]);
    return (r) => r.predicted !== undefined && compare(predicted[2], r.predicted[key], v);
  }
  const sg = /^sg:(.+)$/i.exec(term);
  if (sg) {
    const v = sg[1];
    if (/^\d+$/.test(v)) return (r) => r.spaceGroupNumber === Number(v);
    const norm = (s: string) => s.replace(/[\s_]/g, '').toLowerCase();
    return (r) => r.spaceGroupSymbol !== null && norm(r.spaceGroupSymbol) === norm(v);
  }
  if (isElementSymbol(term)) return (r) => r.elements.includes(term);
  const lower = term.toLowerCase();
  return (r) =>
    r.name.toLowerCase().includes(lower) ||
    r.formula.toLowerCase().includes(lower) ||
    r.reducedFormula.toLowerCase().includes(lower) ||
    (r.spaceGroupSymbol ?? '').toLowerCase().includes(lower);
}

export function matchesQuery(r: Summary, query: string): boolean {
  const terms = query.trim().split(/\s+/).filter(Boolean);
  return terms.map(parseTerm).every((t) => t(r));
}

export type SortKey = 'name' | 'formula' | 'numSites' | 'spaceGroupNumber' | 'createdAt' | 'eform' | 'gap' | 'ehull';

/** Records without a prediction sort after those with one, in either direction. */
const UNPREDICTED = Number.POSITIVE_INFINITY;

/**
 * String orders, made once: `localeCompare` with options builds a collator on
 * every call (~5 µs each in V8), and "Predict all" re-sorts a 2,000-record
 * dataset after each batch of 16, which took 14 s of the page's time that
 * way. `PLAIN.compare` is what `localeCompare` without options does.
 */
const NUMERIC = new Intl.Collator(undefined, { numeric: true });
const PLAIN = new Intl.Collator();

/** The sort key of a record, read once (the records are reactive proxies in the app, where every read costs). */
function sortKey(r: Summary, key: SortKey): string | number {
  switch (key) {
    case 'name':
      return r.name;
    case 'formula':
      return r.reducedFormula;
    case 'numSites':
      return r.numSites;
    case 'spaceGroupNumber':
      return r.spaceGroupNumber ?? 0;
    case 'createdAt':
      return r.createdAt;
    case 'eform':
    case 'gap':
    case 'ehull':
      return r.predicted?.[key] ?? UNPREDICTED;
  }
}

export function sortRecords<T extends Summary>(list: T[], key: SortKey, descending = false): T[] {
  const rows = list.map((record) => ({ record, key: sortKey(record, key), name: record.name }));
  const text = key === 'name' ? NUMERIC : PLAIN;
  const cmp = (a: string | number, b: string | number): number =>
    typeof a === 'string' ? text.compare(a, b as string) : a === b ? 0 : a < (b as number) ? -1 : 1;
  const sorted = rows.sort((a, b) => cmp(a.key, b.key) || PLAIN.compare(a.name, b.name)).map((row) => row.record);
  if (!descending) return sorted;
  // Reversed, but structures without a prediction stay at the end.
  const isPredictedKey = key === 'eform' || key === 'gap' || key === 'ehull';
  const reversed = sorted.reverse();
  return isPredictedKey ? [...reversed.filter((r) => r.predicted), ...reversed.filter((r) => !r.predicted)] : reversed;
}
