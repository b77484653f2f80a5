import { isElementSymbol } from '../core/elements';
import type { StructureRecord } from './schema';

/**
 * The structure browser's search box. Space-separated terms, all of which
 * must match:
 *   Mo S        element symbols (exact case): the structure contains them
 *   MoS2        anything else: substring of name, formula or space group
 *   sg:194      space group number (sg:P6_3/mmc matches the symbol)
 *   n:3  n<10  n>=48   number of sites
 */
export type Summary = Pick<StructureRecord, 'name' | 'formula' | 'reducedFormula' | 'elements' | 'numSites' | 'spaceGroupNumber' | 'spaceGroupSymbol' | 'createdAt'>;

type Test = (r: Summary) => boolean;

function parseTerm(term: string): Test {
  const sites = /^n(?:sites)?\s*(<=|>=|<|>|=|:)\s*(\d+)$/i.exec(term);
  if (sites) {
    const [, op, v] = sites;
    const n = Number(v);
    return (r) =>
      op === '<' ? r.numSites < n : op === '>' ? r.numSites > n : op === '<=' ? r.numSites <= n : op === '>=' ? r.numSites >= n : r.numSites === n;
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

export type SortKey = 'name' | 'formula' | 'numSites' | 'spaceGroupNumber' | 'createdAt';

export function sortRecords<T extends Summary>(list: T[], key: SortKey, descending = false): T[] {
  const cmp = (a: T, b: T): number => {
    switch (key) {
      case 'name':
        return a.name.localeCompare(b.name, undefined, { numeric: true });
      case 'formula':
        return a.reducedFormula.localeCompare(b.reducedFormula);
      case 'numSites':
        return a.numSites - b.numSites;
      case 'spaceGroupNumber':
        return (a.spaceGroupNumber ?? 0) - (b.spaceGroupNumber ?? 0);
      case 'createdAt':
        return a.createdAt - b.createdAt;
    }
  };
  const sorted = [...list].sort((a, b) => cmp(a, b) || a.name.localeCompare(b.name));
  return descending ? sorted.reverse() : sorted;
}
