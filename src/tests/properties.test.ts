/**
 * The crystal-property MEGNet against what the Python pipeline wrote
 * (models/properties/fixtures/crystal-graphs.json): the same graph from the
 * same crystal (pymatgen's neighbour list vs ours), and the exported
 * ensemble's PyTorch outputs reproduced by the TypeScript CPU reference; plus
 * batching, the domain warnings and the `latticelab properties` command.
 */
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadPropertyModel } from '../cli/properties';
import { main } from '../cli/main';
import { batchGraphs } from '../core/graph/batch';
import { matrix } from '../core/graph/types';
import { crystalGraph, oneHotZ } from '../core/properties/graph';
import { vacuumGaps, VACUUM_ANGSTROM } from '../core/properties/model';
import { elementBySymbol } from '../core/elements';
import { Structure } from '../core/structure';
import { builtinById } from '../core/library/builtins';
import type { Vec3 } from '../core/math3';
import type { FixtureCrystal } from '../gpu-lab/property-parity-lab';

/** A crystal of models/properties/fixtures/crystal-graphs.json: its graph and PyTorch's outputs. */
interface Crystal extends FixtureCrystal {
  label: string;
  y: number[];
  members: number[][];
}

const fixtures = JSON.parse(readFileSync(fileURLToPath(new URL('../../models/properties/fixtures/crystal-graphs.json', import.meta.url)), 'utf8')) as {
  cutoff: number;
  targets: string[];
  crystals: Crystal[];
};
const model = loadPropertyModel();
const structureOf = (c: Crystal) => new Structure({ lattice: c.lattice, species: c.species, frac: c.frac });

/** Edges as sorted "src,dst,distance" strings (order is not part of the contract). */
const edgeSet = (src: ArrayLike<number>, dst: ArrayLike<number>, dist: ArrayLike<number>) =>
  Array.from(src, (s, k) => `${s},${dst[k]},${dist[k].toFixed(3)}`).sort();

/** The fixture's own graph (pymatgen's edges), as the model reads it. */
function fixtureGraph(c: Crystal) {
  const feat = oneHotZ(model.manifest.shape.nodeIn);
  const rows = c.species.map((s) => feat(elementBySymbol(s)!));
  return {
    nodes: matrix(c.species.length, model.manifest.shape.nodeIn, rows.flat()),
    edges: matrix(c.dist.length, 1, c.dist),
    src: Int32Array.from(c.src),
    dst: Int32Array.from(c.dst),
    state: new Float32Array(2),
  };
}

describe('crystal-property fixtures from the Python pipeline', () => {
  it('covers a triclinic cell, one atom, 50+ atoms and a slab', () => {
    const labels = fixtures.crystals.map((c) => c.label.split(':')[0]);
    expect(labels).toEqual(expect.arrayContaining(['triclinic', 'one atom', 'largest', 'slab']));
    expect(Math.max(...fixtures.crystals.map((c) => c.species.length))).toBeGreaterThanOrEqual(50);
    expect(fixtures.cutoff).toBe(model.cutoff);
    expect(fixtures.targets).toEqual(model.manifest.targets);
  });

  it('builds the same edges as pymatgen from each crystal', () => {
    for (const c of fixtures.crystals) {
      const g = crystalGraph(structureOf(c), fixtures.cutoff, model.manifest.shape.nodeIn);
      expect(edgeSet(g.src, g.dst, g.edges.data), c.label).toEqual(edgeSet(c.src, c.dst, c.dist));
    }
  });

  it('reproduces every member and the mean within 1e-4 (CPU reference)', () => {
    for (const c of fixtures.crystals) {
      const each = model.forwardMembers(batchGraphs([fixtureGraph(c)]));
      expect(each.length).toBe(c.members.length);
      each.forEach((y, m) => y.forEach((v, t) => expect(Math.abs(v - c.members[m][t]), `${c.label} member ${m} target ${t}`).toBeLessThan(1e-4)));
      const [p] = model.predict([structureOf(c)]);
      p.values.forEach((v, t) => expect(Math.abs(v.raw - c.y[t]), `${c.label} ${v.key}`).toBeLessThan(1e-4));
    }
  });

  it('gives each structure of a batch what it gets alone', () => {
    const structures = fixtures.crystals.map(structureOf);
    const together = model.predict(structures);
    structures.forEach((s, k) => {
      const [alone] = model.predict([s]);
      alone.values.forEach((v, t) => expect(together[k].values[t].raw).toBeCloseTo(v.raw, 4));
    });
  });
});

describe('property predictions', () => {
  it('reports three properties with units, spread and no warning for bulk Si', () => {
    const si = builtinById('si')!.build();
    const [p] = model.predict([si]);
    expect(p.values.map((v) => [v.key, v.unit])).toEqual([
      ['eform', 'eV/atom'],
      ['gap', 'eV'],
      ['ehull', 'eV/atom'],
    ]);
    for (const v of p.values) expect(Number.isFinite(v.value)).toBe(true);
    expect(p.members).toBe(model.members.length);
    if (p.members > 1) expect(p.values.every((v) => v.spread !== null && v.spread >= 0)).toBe(true);
    expect(p.outOfDomain).toEqual([]);
  });

  it('never shows a negative gap or hull energy', () => {
    const structures = fixtures.crystals.map(structureOf);
    for (const p of model.predict(structures)) {
      for (const v of p.values.filter((v) => v.key !== 'eform')) expect(v.value).toBeGreaterThanOrEqual(0);
    }
  });

  it('warns about slabs, unseen elements and cells larger than any in training', () => {
    const slab = fixtures.crystals.find((c) => c.label.startsWith('slab'))!;
    const gaps = vacuumGaps(structureOf(slab));
    expect(Math.max(...gaps)).toBeGreaterThan(VACUUM_ANGSTROM);
    expect(model.domainWarnings(structureOf(slab)).join(' ')).toMatch(/vacuum layer along c/);
    const bulk = fixtures.crystals.find((c) => c.label.startsWith('largest'))!;
    expect(model.domainWarnings(structureOf(bulk))).toEqual([]);
    const og = new Structure({
      lattice: [
        [5, 0, 0],
        [0, 5, 0],
        [0, 0, 5],
      ],
      species: ['Og'],
      frac: [[0, 0, 0]],
    });
    expect(model.domainWarnings(og).join(' ')).toMatch(/never seen Og/);
    const big = new Structure({
      lattice: [
        [30, 0, 0],
        [0, 30, 0],
        [0, 0, 30],
      ],
      species: Array(300).fill('Cu'),
      frac: Array.from({ length: 300 }, (_, i) => [(i % 10) / 10, (Math.floor(i / 10) % 10) / 10, Math.floor(i / 100) / 3] as Vec3),
    });
    expect(model.domainWarnings(big).join(' ')).toMatch(/300 sites; it was trained on crystals of at most/);
    const molecule = new Structure({
      lattice: [
        [10, 0, 0],
        [0, 10, 0],
        [0, 0, 10],
      ],
      species: ['Cu'],
      frac: [[0, 0, 0]],
      pbc: [false, false, false],
    });
    expect(model.domainWarnings(molecule).join(' ')).toMatch(/not periodic along abc/);
  });
});

describe('latticelab properties', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) } };
  };

  it('prints one JSON line per structure, every frame of a multi-frame XYZ', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'll-props-'));
    const xyz = join(dir, 'two.xyz');
    const frame = (el: string) => `2\nLattice="3 0 0 0 3 0 0 0 3" Properties=species:S:1:pos:R:3 pbc="T T T"\n${el} 0 0 0\n${el} 1.5 1.5 1.5\n`;
    writeFileSync(xyz, frame('Cu') + frame('Al'));
    const { out, err, io: sink } = io();
    expect(await main(['properties', xyz, fileURLToPath(new URL('../../e2e/fixtures/NaCl.cif', import.meta.url))], sink)).toBe(0);
    expect(err).toEqual([]);
    const lines = out
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.index, l.formula])).toEqual([
      [0, 'Cu2'],
      [1, 'Al2'],
      [0, 'Na4Cl4'],
    ]);
    for (const l of lines) {
      expect(typeof l.eform).toBe('number');
      expect(l.units).toEqual({ eform: 'eV/atom', gap: 'eV', ehull: 'eV/atom' });
      expect(l.backend).toBe('wasm');
    }
  });

  it('gives the same numbers on the WASM path (default) and the TypeScript reference (--backend cpu)', async () => {
    const nacl = fileURLToPath(new URL('../../e2e/fixtures/NaCl.cif', import.meta.url));
    const run = async (extra: string[]) => {
      const { out, io: sink } = io();
      expect(await main(['properties', nacl, ...extra], sink)).toBe(0);
      return JSON.parse(out.join('')) as Record<string, number | string>;
    };
    const [fast, reference] = [await run([]), await run(['--backend', 'cpu'])];
    expect([fast.backend, reference.backend]).toEqual(['wasm', 'cpu']);
    for (const k of ['eform', 'gap', 'ehull']) expect(Math.abs((fast[k] as number) - (reference[k] as number))).toBeLessThanOrEqual(1e-4);
  });

  it('names a malformed file and its line, exits 1, and still predicts the good ones', async () => {
    const { out, err, io: sink } = io();
    const code = await main(
      [
        'properties',
        fileURLToPath(new URL('../../e2e/fixtures/broken.cif', import.meta.url)),
        fileURLToPath(new URL('../../e2e/fixtures/NaCl.cif', import.meta.url)),
      ],
      sink,
    );
    expect(code).toBe(1);
    expect(err.join('')).toMatch(/broken\.cif, line \d+/);
    expect(out.join('').trim().split('\n')).toHaveLength(1);
  });

  it('rejects a bad backend as a usage error', async () => {
    const { io: sink } = io();
    expect(await main(['properties', 'x.cif', '--backend', 'tpu'], sink)).toBe(2);
  });
});
