/**
 * The user's bond rules per element pair (core/bonds.ts), kept in this
 * browser's localStorage. Only well-formed entries are read back: a pair
 * key such as "Ti-O" and a positive distance up to 10 Å, or null ("never
 * bond this pair"); anything else in storage is ignored, never an error.
 */
import type { BondRules } from '../core/bonds';

const KEY = 'latticelab.bondRules';

type Store = Pick<Storage, 'getItem' | 'setItem'>;

export function loadBondRules(store: Store | undefined = globalThis.localStorage): BondRules {
  try {
    const saved = JSON.parse(store?.getItem(KEY) ?? '{}') as Record<string, unknown>;
    const ok = (e: [string, unknown]): e is [string, number | null] =>
      /^[A-Z][a-z]?-[A-Z][a-z]?$/.test(e[0]) && (e[1] === null || (typeof e[1] === 'number' && e[1] > 0 && e[1] <= 10));
    return Object.fromEntries(Object.entries(saved).filter(ok));
  } catch {
    return {};
  }
}

export function saveBondRules(rules: BondRules, store: Store | undefined = globalThis.localStorage): void {
  try {
    store?.setItem(KEY, JSON.stringify(rules));
  } catch {
    // Storage full or disabled: the rules still apply for this visit.
  }
}
