/**
 * Novelty and uniqueness (src/core/generate/novelty.ts) against the Python
 * module that calibrated them (models/cdvae/novelty.py): the same
 * descriptors, distances and match answers on its fixture crystals, and the
 * training sets it exported (models/cdvae/export/<dataset>/known.json).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Mat3, Vec3 } from '../core/math3';
import {
  descriptor,
  descriptorDistance,
  isNew,
  KNOWN_FORMAT,
  markNovelty,
  match,
  noveltyFormula,
  NOVELTY_PARAMS,
  parseKnown,
  primitiveSize,
  uniqueFlags,
  type KnownSet,
  type NoveltyCrystal,
} from '../core/generate/novelty';

const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));

interface FixtureCrystal extends NoveltyCrystal {
  name: string;
  dataset: string | null;
  formula: string;
  nprim: number;
  descriptor: number[];
}
const fixture = JSON.parse(readFileSync(root('models/cdvae/fixtures/novelty.json'), 'utf8')) as {
  params: Record<string, unknown>;
  threshold: number;
  crystals: FixtureCrystal[];
  distance: (number | null)[][];
  match: boolean[][];
  unique: boolean[];
};
const knownText = (dataset: string) => readFileSync(root(`models/cdvae/export/${dataset}/known.json`), 'utf8');
const knownSets = new Map<string, KnownSet>();
const known = (dataset: string): KnownSet => {
  if (!knownSets.has(dataset)) knownSets.set(dataset, parseKnown(JSON.parse(knownText(dataset))));
  return knownSets.get(dataset)!;
};

/** The cell 2a × b × c, atoms listed in a scrambled order and shifted. */
function doubled(c: NoveltyCrystal): NoveltyCrystal {
  const lattice: Mat3 = [c.lattice[0].map((x) => 2 * x) as Vec3, [...c.lattice[1]], [...c.lattice[2]]];
  const frac: Vec3[] = [];
  const numbers: number[] = [];
  for (const k of [1, 0])
    c.frac.forEach((f, i) => {
      frac.push([(f[0] + k) / 2 + 0.13, f[1] - 0.21, f[2] + 0.4]);
      numbers.push(c.numbers[i]);
    });
  const order = frac.map((_, i) => (i * 7) % frac.length);
  expect(new Set(order).size).toBe(frac.length);
  return { lattice, frac: order.map((i) => frac[i]), numbers: order.map((i) => numbers[i]) };
}

describe('novelty descriptor', () => {
  it('uses the parameters the fixture was written with', () => {
    for (const [k, v] of Object.entries(NOVELTY_PARAMS)) expect(fixture.params[k]).toBe(v);
  });

  it('equals the Python descriptor on the fixture crystals', () => {
    for (const c of fixture.crystals) {
      const d = descriptor(c);
      expect(d.formula, c.name).toBe(c.formula);
      expect(d.nprim, c.name).toBe(c.nprim);
      expect(d.hist.length, c.name).toBe(c.descriptor.length);
      const scale = Math.max(...c.descriptor);
      // Only the neighbour list's float32 distances differ from Python's float64.
      for (let i = 0; i < d.hist.length; i++) expect(Math.abs(d.hist[i] - c.descriptor[i]), `${c.name} bin ${i}`).toBeLessThan(1e-5 * scale);
    }
  });

  it('gives the Python distances, matches and unique flags', () => {
    const ds = fixture.crystals.map(descriptor);
    ds.forEach((a, i) =>
      ds.forEach((b, j) => {
        const want = fixture.distance[i][j];
        if (want !== null) expect(descriptorDistance(a.hist, b.hist)).toBeCloseTo(want, 6);
        expect(match(a, b, fixture.threshold), `${fixture.crystals[i].name} / ${fixture.crystals[j].name}`).toBe(fixture.match[i][j]);
      }),
    );
    expect(uniqueFlags(ds, fixture.threshold)).toEqual(fixture.unique);
  });

  it('writes reduced formulas as novelty.py does', () => {
    expect(noveltyFormula([38, 22, 8, 8, 8])).toBe('O3TiSr');
    expect(noveltyFormula([6, 6, 6, 6])).toBe('C');
    expect(noveltyFormula([11, 11, 17, 17, 17, 17])).toBe('NaCl2');
  });

  it('does not depend on the cell: a doubled, shuffled, shifted copy has the same descriptor', () => {
    for (const c of fixture.crystals.slice(0, 6)) {
      const a = descriptor(c);
      const b = descriptor(doubled(c));
      expect(b.formula).toBe(a.formula);
      expect(b.nprim).toBe(a.nprim);
      expect(primitiveSize(doubled(c))).toBe(a.nprim);
      expect(descriptorDistance(a.hist, b.hist)).toBeLessThan(1e-6);
    }
  });

  it('tells rock salt from CsCl', () => {
    const rs = fixture.crystals.find((c) => c.name.startsWith('rock salt'))!;
    const cscl = fixture.crystals.find((c) => c.name.startsWith('CsCl'))!;
    expect(match(rs, cscl, 0.014)).toBe(false);
  });
});

describe('novelty against the training sets', () => {
  it('finds every fixture training crystal, and a 1 % strained copy, in known.json', () => {
    const train = fixture.crystals.filter((c) => c.name.includes(' train '));
    expect(train.length).toBeGreaterThanOrEqual(4);
    for (const c of train) expect(isNew(c, known(c.dataset!)), c.name).toBe(false);
    const strained = fixture.crystals.find((c) => c.name.startsWith('carbon strained'))!;
    expect(isNew(strained, known('carbon_24'))).toBe(false);
  });

  it('calls a composition the training set does not have new', () => {
    const rs = fixture.crystals.find((c) => c.name.startsWith('rock salt'))!;
    expect(isNew(rs, known('perov_5'))).toBe(true);
    expect(isNew(rs, known('carbon_24'))).toBe(true);
    // NaCl is in the Materials Project training split as rock salt (2 atoms in the primitive cell), not as CsCl
    const cscl = fixture.crystals.find((c) => c.name.startsWith('CsCl'))!;
    expect(isNew(rs, known('mp20_biternary_pilot'))).toBe(false);
    expect(isNew(cscl, known('mp20_biternary_pilot'))).toBe(true);
  });

  it('marks a supercell of a crystal as not unique', () => {
    for (const c of fixture.crystals.filter((x) => x.dataset !== null)) {
      const th = known(c.dataset!).threshold;
      expect(uniqueFlags([c, doubled(c)], th), c.name).toEqual([true, false]);
      expect(uniqueFlags([doubled(c), c, c], th), c.name).toEqual([true, false, false]);
    }
    const sc = fixture.crystals.find((c) => c.name.startsWith('carbon supercell'))!;
    const base = fixture.crystals[3];
    expect(uniqueFlags([base, sc])).toEqual([true, false]);
  });

  it('reads every exported known set', () => {
    for (const [dataset, count] of [
      ['perov_5', 6021],
      ['carbon_24', 3289],
      ['mp20_biternary_pilot', 12554],
    ] as const) {
      const k = known(dataset);
      expect(k.dataset).toBe(dataset);
      expect(k.count).toBe(count);
      expect(k.threshold).toBeGreaterThan(0);
    }
  });
});

describe('parseKnown', () => {
  const good = () => JSON.parse(knownText('carbon_24')) as Record<string, unknown>;

  it('accepts the text as well as the parsed object', () => {
    expect(parseKnown(knownText('carbon_24')).count).toBe(known('carbon_24').count);
  });

  it('refuses bad input with a clear message', () => {
    expect(() => parseKnown('{"format": ')).toThrow(/latticelab-known\/1 file: the text is not JSON/);
    expect(() => parseKnown(null)).toThrow(/expected a JSON object/);
    expect(() => parseKnown([1, 2])).toThrow(/expected a JSON object/);
    expect(() => parseKnown({ ...good(), format: 'latticelab-known/0' })).toThrow(/format is "latticelab-known\/0", expected "latticelab-known\/1"/);
    const d = good();
    expect(() => parseKnown({ ...d, descriptor: { ...(d.descriptor as object), sigma: 0.1 } })).toThrow(
      /descriptor parameter sigma is 0.1, this build computes 0.2/,
    );
    expect(() => parseKnown({ ...d, threshold: -1 })).toThrow(/threshold must be a positive number/);
    expect(() => parseKnown({ ...d, known: { C: [[2, 1, 2, 3]] }, count: 1 })).toThrow(/an entry of C must be \[primitive size, 15 integers\]/);
    expect(() => parseKnown({ ...d, known: { 'not a formula': [] }, count: 0 })).toThrow(/"not a formula" is not a reduced formula/);
    expect(() => parseKnown({ ...d, known: { C: [[2, ...Array(14).fill(0), 'x']] }, count: 1 })).toThrow(/holds something other than numbers/);
    expect(() => parseKnown({ ...d, count: 5 })).toThrow(/count says 5 crystals, the file holds 3289/);
    expect(KNOWN_FORMAT).toBe('latticelab-known/1');
  });
});

describe('markNovelty (what the app and the CLI call)', () => {
  it('marks a batch against the known set with the threshold of that set', () => {
    const c = fixture.crystals[0];
    const k = known('carbon_24');
    const marks = markNovelty([c, doubled(c)], k);
    expect(marks.unique).toEqual([true, false]);
    expect(marks.isNew[0]).toBe(isNew(c, k));
    // a set whose threshold accepts any two crystals of a formula and primitive size makes distinct ones repeats
    const d = fixture.crystals.map(descriptor);
    const pair = d
      .flatMap((a, i) => d.slice(i + 1).map((b, j) => [i, i + 1 + j] as const))
      .find(([i, j]) => d[i].formula === d[j].formula && d[i].nprim === d[j].nprim && !match(d[i], d[j]));
    expect(pair).toBeDefined();
    const [i, j] = pair!;
    expect(markNovelty([fixture.crystals[i], fixture.crystals[j]], { ...k, threshold: 1e9 }).unique).toEqual([true, false]);
    expect(markNovelty([fixture.crystals[i], fixture.crystals[j]], k).unique).toEqual([true, true]);
  });

  it('leaves "new" open without a known set', () => {
    expect(markNovelty([fixture.crystals[0]], null).isNew).toEqual([null]);
  });
});
