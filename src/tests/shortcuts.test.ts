import { describe, expect, it } from 'vitest';
import { loadBondRules, saveBondRules } from '../app/bond-rules-store';
import { shortcutFor } from '../app/shortcuts';

const key = (k: string, extra: Partial<{ ctrlKey: boolean; metaKey: boolean; altKey: boolean; typing: boolean }> = {}) => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  typing: false,
  ...extra,
});

describe('keyboard shortcuts', () => {
  it('maps the keys ShortcutsDialog lists', () => {
    expect(shortcutFor(key('?'))).toEqual({ kind: 'shortcuts' });
    expect(shortcutFor(key('P'))).toEqual({ kind: 'present' });
    expect(shortcutFor(key('p'))).toEqual({ kind: 'present' });
    expect(shortcutFor(key('Escape'))).toEqual({ kind: 'escape' });
    expect(shortcutFor(key('r'))).toEqual({ kind: 'reset-camera' });
    expect(shortcutFor(key('b'))).toEqual({ kind: 'view-along', uvw: [0, 1, 0] });
    expect(shortcutFor(key('3'))).toEqual({ kind: 'mode', mode: 'generate' });
    expect(shortcutFor(key('x'))).toBeNull();
  });

  it('leaves typing and browser shortcuts alone', () => {
    expect(shortcutFor(key('a', { typing: true }))).toBeNull();
    expect(shortcutFor(key('r', { ctrlKey: true }))).toBeNull();
    expect(shortcutFor(key('p', { metaKey: true }))).toBeNull();
    expect(shortcutFor(key('1', { altKey: true }))).toBeNull();
  });
});

describe('bond rules kept in the browser', () => {
  function memory(initial: Record<string, string> = {}) {
    const data = { ...initial };
    return { getItem: (k: string) => data[k] ?? null, setItem: (k: string, v: string) => void (data[k] = v), data };
  }

  it('round-trips the rules and ignores malformed entries', () => {
    const store = memory();
    saveBondRules({ 'Ti-O': 2.2, 'Sr-Ti': null }, store);
    expect(loadBondRules(store)).toEqual({ 'Ti-O': 2.2, 'Sr-Ti': null });
    const bad = memory({ 'latticelab.bondRules': JSON.stringify({ 'Ti-O': 2.2, titanium: 2, 'Sr-Ti': -1, 'Cs-Cl': 50, 'Na-Cl': '3' }) });
    expect(loadBondRules(bad)).toEqual({ 'Ti-O': 2.2 });
    expect(loadBondRules(memory({ 'latticelab.bondRules': '{not json' }))).toEqual({});
  });

  it('keeps working where storage is missing or full', () => {
    expect(loadBondRules(undefined)).toEqual({});
    const full = {
      getItem: () => null,
      setItem: () => {
        throw new DOMException('full', 'QuotaExceededError');
      },
    };
    expect(() => saveBondRules({ 'Ti-O': 2 }, full)).not.toThrow();
  });
});
