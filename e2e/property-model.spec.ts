/**
 * Parity of the shipped crystal-property model on WebGPU with PyTorch, on the
 * fixtures models/properties/export.py wrote (a triclinic cell, one atom,
 * 50+ atoms, a slab): the WGSL MEGNet, every member batched into one
 * submission, within 1e-4 of PyTorch; and the app's whole WebGPU path
 * (its own graphs, then WGSL) gives the same means. The TypeScript CPU
 * reference is checked in src/tests/properties.test.ts.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import type { FixtureCrystal } from '../src/gpu-lab/property-parity-lab';
import { openGpuLab } from './gpu-lab-page';

interface Crystal extends FixtureCrystal {
  label: string;
  y: number[];
  members: number[][];
}

const { crystals } = JSON.parse(readFileSync(fileURLToPath(new URL('../models/properties/fixtures/crystal-graphs.json', import.meta.url)), 'utf8')) as {
  crystals: Crystal[];
};

test('the WGSL MEGNet reproduces PyTorch on every property fixture and member, and the app path agrees', async ({ browser }) => {
  test.setTimeout(180_000); // pipeline compilation and a 52-atom graph on software WebGPU under load
  const page = await openGpuLab(browser);
  const out = await page.evaluate((a) => window.gpuLab.propertyModelGpu(a), { crystals });
  await page.close();
  if ('error' in out) throw new Error(out.error);
  const T = crystals[0].y.length;
  expect(out.members.length).toBe(crystals[0].members.length);
  out.members.forEach((y, m) =>
    crystals.forEach((c, g) => {
      for (let t = 0; t < T; t++) expect(Math.abs(y[g * T + t] - c.members[m][t]), `${c.label}, member ${m}, target ${t}`).toBeLessThan(1e-4);
    }),
  );
  crystals.forEach((c, g) => c.y.forEach((want, t) => expect(Math.abs(out.appMeans[g][t] - want), `${c.label}, app path, target ${t}`).toBeLessThan(1e-4)));
});
