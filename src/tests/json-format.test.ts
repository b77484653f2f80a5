import { describe, expect, it } from 'vitest';
import { readStructures, detectFormat, writeStructures, FORMATS } from '../core/formats/index';
import { readJson, writeJson } from '../core/formats/json';
import { BUILTINS } from '../core/library/builtins';
import type { Structure } from '../core/structure';

function expectSame(a: Structure, b: Structure, tol = 1e-6): void {
  expect(b.species).toEqual(a.species);
  expect(b.pbc).toEqual(a.pbc);
  a.lattice.matrix.flat().forEach((x, k) => expect(Math.abs(b.lattice.matrix.flat()[k] - x)).toBeLessThan(tol));
  // Formats may wrap coordinates; compare modulo lattice translations.
  a.frac.forEach((f, i) =>
    f.forEach((x, k) => {
      const d = b.frac[i][k] - x;
      expect(Math.abs(a.pbc[k] ? d - Math.round(d) : d)).toBeLessThan(tol);
    }),
  );
}

describe('project JSON', () => {
  it('round-trips every field exactly', () => {
    const s = BUILTINS[0].build().with({ occupancy: [0.5, 1, 1], labels: ['a', 'b', 'c'], warnings: ['w'] });
    const t = readJson(writeJson(s), 'x.json')[0];
    expect(t.lattice.matrix).toEqual(s.lattice.matrix);
    expect(t.frac).toEqual(s.frac);
    expect(t.occupancy).toEqual([0.5, 1, 1]);
    expect(t.labels).toEqual(['a', 'b', 'c']);
    expect(t.properties).toEqual(s.properties);
    expect(t.warnings).toEqual(['w']);
  });

  it('reads arrays of structures', () => {
    const list = BUILTINS.slice(0, 3).map((b) => b.build());
    expect(readJson(writeJson(list), 'x.json')).toHaveLength(3);
  });

  it.each([
    ['bad JSON', '{"lattice": [1,2', /not valid JSON/],
    ['wrong format', '{"format":"other"}', /format is 'other'/],
    ['bad lattice', '{"lattice":[[1,0,0],[0,1,0]],"species":[],"frac":[]}', /lattice must be a 3x3/],
    ['bad element', '{"lattice":[[1,0,0],[0,1,0],[0,0,1]],"species":["Zz"],"frac":[[0,0,0]]}', /'Zz' is not an element/],
    ['short frac', '{"lattice":[[1,0,0],[0,1,0],[0,0,1]],"species":["Si","Si"],"frac":[[0,0,0]]}', /one \[x,y,z\] per species/],
    ['bad occupancy', '{"lattice":[[1,0,0],[0,1,0],[0,0,1]],"species":["Si"],"frac":[[0,0,0]],"occupancy":[2]}', /occupancy/],
    ['too new', '{"format":"latticelab-structure","version":99}', /newer/],
    ['empty array', '[]', /no structures/],
  ])('rejects %s, naming the file', (_n, text, message) => {
    expect(() => readJson(text, 'bad.json')).toThrow(message);
    expect(() => readJson(text, 'bad.json')).toThrow(/^bad\.json/);
  });

  it('reports the line of a JSON syntax error', () => {
    expect(() => readJson('{\n "a": 1,\n "b": ]\n}', 'bad.json')).toThrow(/line 3/);
  });
});

describe('format detection and conversion', () => {
  it('detects formats by name and by content', () => {
    expect(detectFormat('x.CIF', '')).toBe('cif');
    expect(detectFormat('POSCAR', '')).toBe('poscar');
    expect(detectFormat('CONTCAR_relaxed', '')).toBe('poscar');
    expect(detectFormat('mos2.vasp', '')).toBe('poscar');
    expect(detectFormat('a.extxyz', '')).toBe('xyz');
    expect(detectFormat('a.json', '')).toBe('json');
    expect(detectFormat('noext', 'data_x\n_cell_length_a 3\n')).toBe('cif');
    expect(detectFormat('noext', '2\ncomment\nSi 0 0 0\n')).toBe('xyz');
    expect(detectFormat('noext', '{"species":[]}')).toBe('json');
    expect(detectFormat('noext', 'hello world')).toBeUndefined();
  });

  it('refuses unknown formats with a clear message', () => {
    expect(() => readStructures('notes.txt', 'hello')).toThrow(/notes\.txt: unknown file format/);
  });

  it.each(FORMATS)('every built-in structure round-trips through %s', (format) => {
    for (const entry of BUILTINS) {
      const s = entry.build();
      const text = writeStructures([s], format);
      const [t] = readStructures(`x.${format === 'poscar' ? 'vasp' : format}`, text);
      // POSCAR regroups species; compare as sorted multisets then geometry via a sorted copy.
      if (format === 'poscar') {
        expect([...t.species].sort()).toEqual([...s.species].sort());
        expect(t.lattice.volume).toBeCloseTo(s.lattice.volume, 6);
        continue;
      }
      // CIF and POSCAR have no slab flag; XYZ and JSON keep it.
      const expected = format === 'cif' ? s.with({ pbc: [true, true, true] }) : s;
      expectSame(expected, format === 'cif' ? t.with({ pbc: [true, true, true] }) : t);
    }
  });
});

describe('JSON error location', () => {
  it.each([
    ['{\n "a": 1,\n "b": ]\n}', 3],
    ['[1, 2,\n3,,\n4]', 2],
    ['{"a": "unterminated\n', 1],
    ['{"a": 1}\n\n x', 3],
    ['\n\n{"a": tru}', 3],
  ])('finds the line of %j', async (text, line) => {
    const { jsonErrorLine } = await import('../core/formats/json-error');
    expect(jsonErrorLine(text)).toBe(line);
  });

  it('returns undefined for valid JSON', async () => {
    const { jsonErrorLine } = await import('../core/formats/json-error');
    expect(jsonErrorLine('{"a": [1, -2.5e3, "x\\"y", true, null, {}]}')).toBeUndefined();
  });
});
