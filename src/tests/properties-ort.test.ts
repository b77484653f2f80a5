/**
 * The property model's fast CPU path (the ensemble's trunk in ONNX on
 * onnxruntime-web's WASM provider, Set2Set and readout in TypeScript)
 * against the TypeScript reference and the PyTorch fixtures: single graphs,
 * one mixed batch, random triclinic cells, a cell with no edges, a vacuum
 * slab; and the checks that refuse a trunk from other weights.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PROPERTY_MODEL, loadPropertyModel, openOrtPropertyPath } from '../cli/properties';
import { batchGraphs } from '../core/graph/batch';
import { seededRandom } from '../core/graph/megnet';
import { onnxMetadata, sha256Hex } from '../core/graph/onnx-metadata';
import { OrtPropertyPath } from '../core/properties/ort-path';
import { Structure } from '../core/structure';
import type { Mat3, Vec3 } from '../core/math3';

interface Crystal {
  label: string;
  lattice: Mat3;
  species: string[];
  frac: Vec3[];
  members: number[][];
}

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const fixtures = JSON.parse(readFileSync(here('../../models/properties/fixtures/crystal-graphs.json'), 'utf8')) as { crystals: Crystal[] };
const TRUNK = DEFAULT_PROPERTY_MODEL.replace(/\.json$/, '-trunk.onnx');
const model = loadPropertyModel();
let fast: OrtPropertyPath;

beforeAll(async () => {
  fast = await openOrtPropertyPath(model);
});

const structureOf = (c: { lattice: Mat3; species: string[]; frac: Vec3[] }) => new Structure({ lattice: c.lattice, species: c.species, frac: c.frac });

function maxAbsDiff(a: readonly ArrayLike<number>[], b: readonly ArrayLike<number>[]): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  a.forEach((x, k) => {
    expect(x.length).toBe(b[k].length);
    for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - b[k][i]));
  });
  return d;
}

/** Both paths on one batch of structures: every member's de-normalised outputs. */
async function bothPaths(structures: Structure[]) {
  const batch = batchGraphs(structures.map((s) => model.graph(s)));
  return { fast: await fast.forwardMembers(batch), reference: model.forwardMembers(batch), edges: batch.edges.rows };
}

/** A random cell: lengths 2.5–7 Å, angles 60–120°, 1–12 atoms of the training elements. */
function randomCrystal(rand: () => number): Structure {
  const [a, b, c] = [0, 0, 0].map(() => 2.5 + 4.5 * rand());
  const [al, be, ga] = [0, 0, 0].map(() => ((60 + 60 * rand()) * Math.PI) / 180);
  const cx = c * Math.cos(be);
  const cy = (c * (Math.cos(al) - Math.cos(be) * Math.cos(ga))) / Math.sin(ga);
  const lattice: Mat3 = [
    [a, 0, 0],
    [b * Math.cos(ga), b * Math.sin(ga), 0],
    [cx, cy, Math.sqrt(Math.max(0.1, c * c - cx * cx - cy * cy))],
  ];
  const pool = ['Li', 'O', 'Si', 'Fe', 'Cu', 'N', 'S', 'Ba', 'Ti', 'Cl'];
  const n = 1 + Math.floor(12 * rand());
  return new Structure({
    lattice,
    species: Array.from({ length: n }, () => pool[Math.floor(rand() * pool.length)]),
    frac: Array.from({ length: n }, () => [rand(), rand(), rand()] as Vec3),
  });
}

describe('the fast CPU path (ONNX trunk on onnxruntime-web WASM)', () => {
  it('reproduces the PyTorch fixtures one crystal at a time (triclinic, one atom, 50+ atoms, slab)', async () => {
    for (const c of fixtures.crystals) {
      const out = await fast.forwardMembers(batchGraphs([model.graph(structureOf(c))]));
      expect(maxAbsDiff(out, c.members), c.label).toBeLessThan(1e-4);
    }
  });

  it('gives every crystal of a mixed batch the same numbers as the reference', async () => {
    const { fast: f, reference } = await bothPaths(fixtures.crystals.map(structureOf));
    expect(maxAbsDiff(f, reference)).toBeLessThan(1e-4);
  });

  it('agrees with the reference on random triclinic cells, batched', async () => {
    const rand = seededRandom(29);
    const structures = Array.from({ length: 12 }, () => randomCrystal(rand));
    const { fast: f, reference, edges } = await bothPaths(structures);
    expect(edges).toBeGreaterThan(100);
    expect(maxAbsDiff(f, reference)).toBeLessThan(1e-4);
  });

  it('handles a graph with no edges (one atom in a 12 Å box) beside one with edges', async () => {
    const lonely = new Structure({
      lattice: [
        [12, 0, 0],
        [0, 12, 0],
        [0, 0, 12],
      ],
      species: ['Fe'],
      frac: [[0.5, 0.5, 0.5]],
    });
    const si = structureOf(fixtures.crystals[0]);
    const { fast: f, reference } = await bothPaths([lonely, si]);
    expect(f.every((m) => m.every(Number.isFinite))).toBe(true);
    expect(maxAbsDiff(f, reference)).toBeLessThan(1e-4);
    const alone = await bothPaths([lonely]);
    expect(alone.edges).toBe(0);
    expect(maxAbsDiff(alone.fast, alone.reference)).toBeLessThan(1e-4);
  });

  it('predicts as PropertyModel.predict does, warnings included', async () => {
    const structures = fixtures.crystals.map(structureOf);
    const a = await fast.predict(structures);
    const b = model.predict(structures);
    a.forEach((p, i) => {
      expect(p.outOfDomain).toEqual(b[i].outOfDomain);
      p.values.forEach((v, k) => {
        expect(v.key).toBe(b[i].values[k].key);
        expect(Math.abs(v.raw - b[i].values[k].raw)).toBeLessThan(1e-4);
      });
    });
  });
});

describe('the trunk file belongs to the weights', () => {
  const onnx = readFileSync(TRUNK);
  const bin = readFileSync(DEFAULT_PROPERTY_MODEL.replace(/\.json$/, '.bin'));

  it('records the SHA-256 of the weight file and the member count', async () => {
    const meta = onnxMetadata(onnx);
    expect(meta.members).toBe(String(model.members.length));
    expect(meta.weights_sha256).toBe(await sha256Hex(bin));
  });

  it('refuses other weights and another member count', async () => {
    const ort = await import('onnxruntime-web');
    const other = Uint8Array.from(bin);
    other[100] ^= 1;
    await expect(OrtPropertyPath.open(ort, model, onnx, other)).rejects.toThrow(/other weights/);
    const { openOrtMegnetTrunk } = await import('../core/graph/megnet-ort');
    await expect(openOrtMegnetTrunk(ort, onnx, { members: 2, features: 32 })).rejects.toThrow(/members/);
  });

  it('reads no metadata from a truncated file, with a clear error', () => {
    expect(() => onnxMetadata(onnx.subarray(0, 1000))).toThrow(/ONNX file/);
  });
});
