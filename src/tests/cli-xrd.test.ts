/** `latticelab xrd` (issue 30): one JSON line per structure, refusals in words, usage errors with exit code 2. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../cli/main';
import { writeStructures } from '../core/formats/index';
import { builtinById } from '../core/library/builtins';

const dir = mkdtempSync(join(tmpdir(), 'latticelab-xrd-'));
// Extended XYZ carries pbc (a POSCAR cannot say that a monolayer is a slab).
const write = (name: string, ids: string[], format: 'poscar' | 'xyz') => {
  const path = join(dir, name);
  writeFileSync(
    path,
    writeStructures(
      ids.map((id) => builtinById(id)!.build()),
      format,
    ),
  );
  return path;
};
const si = write('Si.vasp', ['si'], 'poscar');
const two = write('two.xyz', ['nacl', 'zno'], 'xyz');
const slab = write('MoS2-monolayer.xyz', ['mos2-monolayer'], 'xyz');

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

interface Line {
  file: string;
  index: number;
  formula: string;
  radiation: string;
  wavelength: number;
  twoThetaRange: [number, number];
  peaks: { twoTheta: number; intensity: number; d: number; hkl: { hkl: number[]; label: string; multiplicity: number }[] }[];
}
const lines = (out: string) =>
  out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);

describe('latticelab xrd', () => {
  it('prints Si’s pattern: 111 at 28.44 ± 0.05° with intensity 100, d in Å, Cu Kα named', async () => {
    const { code, out, err } = await run(['xrd', si]);
    expect(err).toBe('');
    expect(code).toBe(0);
    const [j] = lines(out);
    expect(j.radiation).toBe('Cu Kα, λ = 1.54184 Å');
    expect(j.wavelength).toBe(1.54184);
    expect(j.twoThetaRange).toEqual([0, 90]);
    const p111 = j.peaks[0];
    expect(p111.hkl).toEqual([{ hkl: [1, 1, 1], label: '1 1 1', multiplicity: 8 }]);
    expect(Math.abs(p111.twoTheta - 28.44)).toBeLessThan(0.05);
    expect(p111.intensity).toBe(100);
    expect(p111.d).toBeCloseTo(3.1356, 4);
    expect(j.peaks.map((p) => p.hkl[0].label)).not.toContain('2 0 0');
  });

  it('one line per structure of a multi-frame file, in order, with --range', async () => {
    const { code, out } = await run(['xrd', two, si, '--range', '20,60']);
    expect(code).toBe(0);
    const js = lines(out);
    expect(js.map((j) => [j.file.endsWith('two.xyz') ? 'two' : 'si', j.index, j.formula])).toEqual([
      ['two', 0, 'Na4Cl4'],
      ['two', 1, 'Zn2O2'],
      ['si', 0, 'Si8'],
    ]);
    for (const j of js) {
      expect(j.twoThetaRange).toEqual([20, 60]);
      for (const p of j.peaks) expect(p.twoTheta >= 20 && p.twoTheta <= 60).toBe(true);
    }
    expect(js[1].peaks[0].hkl[0].hkl).toHaveLength(4); // wurtzite: (h k i l)
  });

  it('refuses a monolayer in words on stderr, still prints the others, exit code 1', async () => {
    const { code, out, err } = await run(['xrd', slab, si]);
    expect(code).toBe(1);
    expect(err).toMatch(/MoS2-monolayer\.xyz: structure 0: A powder pattern needs a crystal periodic in three dimensions; this is a slab/);
    expect(lines(out)).toHaveLength(1);
  });

  it('usage errors exit 2; a missing file exits 1', async () => {
    expect((await run(['xrd'])).code).toBe(2);
    const bad = await run(['xrd', si, '--range', '90,10']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--range must satisfy 0 ≤ LO < HI < 180/);
    expect((await run(['xrd', si, '--range', 'ten'])).err).toMatch(/--range must be two numbers/);
    const missing = await run(['xrd', join(dir, 'none.cif')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/cannot read .*none\.cif: ENOENT/);
  });

  it('runs as the installed bin, one line of error and no stack trace for a slab', () => {
    const refused = (() => {
      try {
        execFileSync('node', ['scripts/latticelab.js', 'xrd', slab], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        return { status: 0, stderr: '' };
      } catch (e) {
        return e as { status: number; stderr: string };
      }
    })();
    expect(refused.status).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/periodic in three dimensions/);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    const out = execFileSync('node', ['scripts/latticelab.js', 'xrd', si], { encoding: 'utf8' });
    expect(JSON.parse(out).peaks[0].hkl[0].label).toBe('1 1 1');
  }, 30_000); // a fresh Node process that compiles the TypeScript entry (about 2 s, more under load)
});
