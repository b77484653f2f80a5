/**
 * The CDVAE property head in TypeScript (target mode) against PyTorch: value,
 * autograd gradient and short Adam runs from the fixtures that
 * models/cdvae/export.py writes, for every shipped model.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { aimLatents, type Objective, optimizeLatents, parsePropertyHead, propertyAt } from '../core/generate/property-head';

const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const readJson = (p: string) => JSON.parse(readFileSync(root(p), 'utf8')) as unknown;

interface Fixture {
  z: number[][];
  property: number[];
  grad: number[][];
  adam: { steps: number; lr: number; target: number; runs: Record<'min' | 'max' | 'near', { z: number[][]; trace: number[][] }> };
}

describe.each(['perov_5', 'carbon_24', 'mp20_biternary_pilot'])('CDVAE property head %s', (id) => {
  const head = parsePropertyHead(readJson(`models/cdvae/export/${id}/property_head.json`));
  const fx = (readJson(`models/cdvae/fixtures/${id}.json`) as { property_head: Fixture }).property_head;
  const scale = Math.max(1, ...fx.property.map(Math.abs));

  it('value and gradient agree with PyTorch autograd', () => {
    fx.z.forEach((z, b) => {
      const g = new Float64Array(head.latent);
      const p = propertyAt(head, z, g);
      expect(Math.abs(p - fx.property[b])).toBeLessThan(1e-4 * scale);
      const gmax = Math.max(...fx.grad[b].map(Math.abs));
      for (let i = 0; i < g.length; i++) expect(Math.abs(g[i] - fx.grad[b][i])).toBeLessThan(1e-4 * Math.max(gmax, 1e-3));
    });
  });

  it.each(['min', 'max', 'near'] as const)('Adam towards %s follows torch.optim.Adam', async (kind) => {
    const run = fx.adam.runs[kind];
    const objective: Objective = kind === 'near' ? { kind, value: fx.adam.target } : { kind };
    const n = fx.z.length;
    const res = await optimizeLatents(head, Float32Array.from(fx.z.flat()), n, objective, { steps: fx.adam.steps, lr: fx.adam.lr });
    const want = run.z.flat();
    for (let i = 0; i < want.length; i++) expect(Math.abs(res.z[i] - want[i])).toBeLessThan(1e-4);
    // The trace holds the property before each step: the first row is "before".
    for (let b = 0; b < n; b++) expect(Math.abs(res.before[b] - run.trace[0][b])).toBeLessThan(1e-4 * scale);
    // and the objective moved the right way
    for (let b = 0; b < n; b++) {
      if (kind === 'min') expect(res.after[b]).toBeLessThan(res.before[b]);
      if (kind === 'max') expect(res.after[b]).toBeGreaterThan(res.before[b]);
      if (kind === 'near') expect(Math.abs(res.after[b] - fx.adam.target)).toBeLessThan(Math.abs(res.before[b] - fx.adam.target));
    }
  });
});

describe('property head input checks', () => {
  const good = readJson('models/cdvae/export/perov_5/property_head.json') as Record<string, unknown>;

  it('refuses a wrong format, bad shapes and an absurd request with a message', async () => {
    expect(() => parsePropertyHead({ ...good, format: 'x' })).toThrow(/format/);
    expect(() => parsePropertyHead({ ...good, layers: [] })).toThrow(/no layers/);
    const layers = good.layers as { weight: number[] }[];
    expect(() => parsePropertyHead({ ...good, layers: [{ ...layers[0], weight: [1, 2] }, ...layers.slice(1)] })).toThrow(/weight/);
    const head = parsePropertyHead(good);
    const z = new Float32Array(head.latent);
    await expect(optimizeLatents(head, z, 1, { kind: 'min' }, { steps: 0, lr: 1e-3 })).rejects.toThrow(/gradient steps/);
    await expect(optimizeLatents(head, z, 2, { kind: 'min' }, { steps: 5, lr: 1e-3 })).rejects.toThrow(/latent vectors/);
    await expect(optimizeLatents(head, z, 1, { kind: 'near', value: Number.NaN }, { steps: 5, lr: 1e-3 })).rejects.toThrow(/target value/);
  });

  it('aimLatents is optimizeLatents as a sampler transform, with its record', async () => {
    const head = parsePropertyHead(good);
    const z = Float32Array.from({ length: 2 * head.latent }, (_, i) => Math.sin(i));
    const aim = aimLatents(head, { objective: { kind: 'max' }, steps: 30, lr: 1e-2 });
    expect(aim.outcome()).toBeNull();
    const moved = await aim.transform(z, 2);
    const direct = await optimizeLatents(head, z, 2, { kind: 'max' }, { steps: 30, lr: 1e-2 });
    expect(moved).toEqual(direct.z);
    const o = aim.outcome()!;
    expect(o).toMatchObject({ objective: { kind: 'max' }, steps: 30, lr: 1e-2, before: Array.from(direct.before), after: Array.from(direct.after) });
    expect(o.ms).toBeGreaterThanOrEqual(0);
  });

  it('stops when cancelled', async () => {
    const head = parsePropertyHead(good);
    const ctl = new AbortController();
    const run = optimizeLatents(
      head,
      new Float32Array(head.latent),
      1,
      { kind: 'min' },
      { steps: 1000, lr: 1e-3, reportEvery: 10, onProgress: (d) => d >= 20 && ctl.abort(), signal: ctl.signal },
    );
    await expect(run).rejects.toThrow(/cancelled/);
  });
});
