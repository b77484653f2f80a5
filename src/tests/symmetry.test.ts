import { beforeAll, describe, expect, it } from 'vitest';
import { BUILTINS } from '../core/library/builtins';
import { analyzeSymmetry } from '../core/symmetry';
import { initSymmetryNode } from '../node/moyo';

beforeAll(async () => {
  await initSymmetryNode();
});

// Expected space groups of the built-in library (International Tables numbers).
const expected: Record<string, number> = {
  si: 227,
  'c-diamond': 227,
  cu: 225,
  al: 225,
  au: 225,
  fe: 229,
  w: 229,
  mg: 194,
  nacl: 225,
  mgo: 225,
  cscl: 221,
  caf2: 225,
  gaas: 216,
  zno: 186,
  'tio2-rutile': 136,
  srtio3: 221,
  'mos2-bulk': 194,
  graphite: 194,
  // Monolayers in a 3D cell with vacuum: the layer group's 3D counterpart.
  'mos2-monolayer': 187,
  'ws2-monolayer': 187,
  'mose2-monolayer': 187,
  'wse2-monolayer': 187,
  'hbn-monolayer': 187,
  graphene: 191,
  'gase-monolayer': 187,
  'inse-monolayer': 187,
};

describe('space groups via moyo', () => {
  it.each(Object.entries(expected))('%s is space group %i', (id, number) => {
    const entry = BUILTINS.find((b) => b.id === id)!;
    expect(entry).toBeDefined();
    expect(analyzeSymmetry(entry.build()).number).toBe(number);
  });

  it('gives Wyckoff letters per site (rutile: Ti 2a, O 4f)', () => {
    const s = BUILTINS.find((b) => b.id === 'tio2-rutile')!.build();
    const sym = analyzeSymmetry(s);
    s.species.forEach((el, i) => expect(sym.wyckoffs[i]).toBe(el === 'Ti' ? 'a' : 'f'));
  });
});
