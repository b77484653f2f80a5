import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../cli/main';
import { writePoscar } from '../core/formats/poscar';
import { builtinById } from '../core/library/builtins';
import { repeat } from '../core/structure';

const dir = mkdtempSync(join(tmpdir(), 'latticelab-cli-'));
const poscar = join(dir, 'POSCAR');
writeFileSync(poscar, writePoscar(builtinById('mos2-monolayer')!.build()));

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

describe('latticelab convert', () => {
  it('prints the parsed structure as JSON with its space group', async () => {
    const { code, out } = await run(['convert', poscar]);
    expect(code).toBe(0);
    const j = JSON.parse(out);
    expect(j.reducedFormula).toBe('MoS2');
    expect(j.lattice.matrix[0][0]).toBeCloseTo(3.16, 6);
    expect(j.species).toEqual(['Mo', 'S', 'S']);
    expect(j.frac).toHaveLength(3);
    expect(j.spaceGroup.number).toBe(187);
    expect(j.spaceGroup.wyckoffs).toHaveLength(3);
  });

  it('converts between formats, to stdout or a file', async () => {
    const cif = await run(['convert', poscar, '--to', 'cif']);
    expect(cif.out).toMatch(/_cell_length_a/);
    const out = join(dir, 'out.xyz');
    expect((await run(['convert', poscar, '--to', 'xyz', '-o', out])).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/Lattice="/);
    const back = await run(['convert', out, '--to', 'json']);
    expect(JSON.parse(back.out).species).toEqual(['Mo', 'S', 'S']);
  });

  it('fails with the file and line on a malformed file, exit code 1', async () => {
    const bad = join(dir, 'bad.vasp');
    writeFileSync(bad, 'x\n1\n1 0 0\n0 1 0\n0 0 1\nSi\n1\nDirect\n0 zero 0\n');
    const { code, err } = await run(['convert', bad]);
    expect(code).toBe(1);
    expect(err).toMatch(/bad\.vasp, line 9/);
  });

  it('explains usage errors, exit code 2', async () => {
    expect((await run(['convert'])).code).toBe(2);
    expect((await run(['convert', poscar, '--to', 'pdb'])).err).toMatch(/--to must be one of/);
    expect((await run(['frobnicate'])).err).toMatch(/unknown command/);
    expect((await run(['convert', join(dir, 'missing.cif')])).err).toMatch(/cannot read .*ENOENT/);
  });

  it('runs as the installed bin', () => {
    const out = execFileSync('node', ['scripts/latticelab.js', 'convert', poscar], { encoding: 'utf8' });
    expect(JSON.parse(out).spaceGroup.symbol).toBe('P -6 m 2');
  }, 30_000); // a fresh Node process that compiles the TypeScript entry: 1.9–2.2 s under the generators' load
});

/** The installed command in a fresh Node process: exit code, stderr and stdout. */
function cli(args: string[]): { code: number; err: string; out: string } {
  try {
    const out = execFileSync('node', ['scripts/latticelab.js', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: 0, err: '', out };
  } catch (e) {
    const x = e as { status: number; stderr: string };
    return { code: x.status, err: x.stderr, out: '' };
  }
}

describe('the CLI never prints a stack trace (issue 26)', () => {
  it.each([
    ['predict with a structure file it cannot map', ['predict', poscar], /POSCAR: the cell is the 1x1 cell of MoS2; the editor takes 2x2 to 10x10 supercells/],
    ['convert -o into a missing folder', ['convert', poscar, '-o', join(dir, 'no-such-folder', 'x.cif')], /no-such-folder\/x\.cif: no such file or folder/],
    ['neighbors with an absurd cutoff', ['neighbors', poscar, '--cutoff', '1e6'], /neighbour list would have about .* edges/],
    ['a file with an absurd cell', ['convert', join(dir, 'huge.vasp')], /huge\.vasp, line 3: cell length a = 1\.00e\+200 Å is above 10000 Å/],
    ['a POSCAR lattice row of 1e308', ['convert', join(dir, 'long.vasp')], /long\.vasp, line 3: cell length a = 1\.41e\+308 Å is above 10000 Å/],
    [
      'a POSCAR row that overflows when scaled',
      ['convert', join(dir, 'overflow.vasp')],
      /overflow\.vasp, line 3: cell vector a is not finite \(a number overflowed\)/,
    ],
    ['an extended XYZ box of 1e308', ['convert', join(dir, 'long.xyz')], /long\.xyz, line 2: cell length b = 1\.41e\+308 Å is above 10000 Å/],
  ])('%s: one line, exit 1', (_, args, why) => {
    writeFileSync(join(dir, 'huge.vasp'), 'x\n1\n1e200 0 0\n0 3 0\n0 0 3\nCu\n1\nDirect\n0 0 0\n');
    writeFileSync(join(dir, 'long.vasp'), 'x\n1\n1e308 1e308 0\n0 3 0\n0 0 3\nCu\n1\nDirect\n0 0 0\n');
    writeFileSync(join(dir, 'overflow.vasp'), 'x\n1e10\n1e300 0 0\n0 3e-10 0\n0 0 3e-10\nCu\n1\nDirect\n0 0 0\n');
    writeFileSync(join(dir, 'long.xyz'), '1\nLattice="3 0 0 0 1e308 1e308 0 0 3" Properties=species:S:1:pos:R:3\nCu 0 0 0\n');
    const { code, err } = cli(args as string[]);
    expect(code).toBe(1);
    expect(err).toMatch(why);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).not.toMatch(/\n\s+at /);
  });
});

describe('the CLI on wild input (issue 26)', () => {
  it('expands a CIF that names its space group but lists no operations (moyo loaded before reading)', () => {
    const cif = join(dir, 'nacl-name-only.cif');
    writeFileSync(
      cif,
      [
        'data_NaCl',
        '_cell_length_a 5.64',
        '_cell_length_b 5.64',
        '_cell_length_c 5.64',
        '_cell_angle_alpha 90',
        '_cell_angle_beta 90',
        '_cell_angle_gamma 90',
        "_symmetry_space_group_name_H-M 'F m -3 m'",
        'loop_',
        '_atom_site_label',
        '_atom_site_type_symbol',
        '_atom_site_fract_x',
        '_atom_site_fract_y',
        '_atom_site_fract_z',
        'Na1 Na 0 0 0',
        'Cl1 Cl 0.5 0.5 0.5',
        '',
      ].join('\n'),
    );
    const { code, out } = cli(['convert', cif, '--to', 'xyz']);
    expect(code).toBe(0);
    expect(out.split('\n')[0]).toBe('8');
  });

  it('quotes at most 80 characters of the offending input', () => {
    const junk = 'x'.repeat(300);
    writeFileSync(join(dir, 'junk.vasp'), `x\n1\n3 0 0\n0 3 ${junk}\n0 0 3\nCu\n1\nDirect\n0 0 0\n`);
    const { code, err } = cli(['convert', join(dir, 'junk.vasp')]);
    expect(code).toBe(1);
    expect(err).toMatch(/line 4: lattice vector 2 is not a number: 'x{79}…'/);
    expect(err.length).toBeLessThan(200);
  });

  it('stops quietly when the reader of its output closes the pipe (| head)', () => {
    const big = join(dir, 'pipe.vasp');
    writeFileSync(big, writePoscar(repeat(builtinById('si')!.build(), [8, 8, 8])));
    // bash's pipefail would report head's early exit; without it the status is head's, so look at stderr only.
    const r = spawnSync('bash', ['-c', `node scripts/latticelab.js convert '${big}' --to xyz | head -c 10 > /dev/null`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
  });
});

describe('latticelab convert on a large supercell', () => {
  it('skips the space group above the documented size, says so, and stays fast', async () => {
    const big = join(dir, 'big.vasp');
    writeFileSync(big, writePoscar(repeat(builtinById('si')!.build(), [8, 8, 8])));
    const t0 = performance.now();
    const { code, out } = await run(['convert', big]);
    expect(code).toBe(0);
    expect(performance.now() - t0).toBeLessThan(3000);
    const j = JSON.parse(out) as { numSites: number; spaceGroup: { error?: string } };
    expect(j.numSites).toBe(4096);
    expect(j.spaceGroup.error).toMatch(
      /not analysed: 4,096 sites is above the 256 this app analyses, and supercells are reduced to their primitive cell only up to 1,500 sites/,
    );
  });
});

describe('latticelab neighbors', () => {
  it('prints the edge list as JSON: MoS2 has 6 S neighbours per Mo at 2.41 Å', async () => {
    const { code, out } = await run(['neighbors', poscar, '--cutoff', '2.6']);
    expect(code).toBe(0);
    const j = JSON.parse(out);
    expect(j.backend).toBe('cpu');
    // Mo–S bonds only: 6 from Mo, 3 from each S, both directions listed.
    expect(j.count).toBe(12);
    const fromMo = j.edges.filter((e: { i: number }) => e.i === 0);
    expect(fromMo).toHaveLength(6);
    for (const e of fromMo) {
      expect(e.distance).toBeCloseTo(2.41, 1);
      expect(e.image[2]).toBe(0);
      expect(Math.hypot(...e.vector)).toBeCloseTo(e.distance, 5);
    }
  });

  it('says clearly when Node has no WebGPU, exit code 1', async () => {
    const { code, err } = await run(['neighbors', poscar, '--cutoff', '3', '--backend', 'webgpu']);
    // This machine has no Vulkan driver; where `webgpu` and a driver exist the command succeeds instead.
    if (code === 0) return;
    expect(code).toBe(1);
    expect(err).toMatch(/WebGPU backend is unavailable in Node|found no adapter/);
  });

  it('rejects a missing or bad cutoff, exit code 2', async () => {
    expect((await run(['neighbors', poscar])).err).toMatch(/--cutoff/);
    expect((await run(['neighbors', poscar, '--cutoff', '-1'])).code).toBe(2);
    expect((await run(['neighbors', poscar, '--cutoff', '3', '--backend', 'cuda'])).err).toMatch(/--backend/);
  });

  it('runs as the installed bin, shaders and all', () => {
    const out = execFileSync('node', ['scripts/latticelab.js', 'neighbors', poscar, '--cutoff', '3.3'], { encoding: 'utf8' });
    expect(JSON.parse(out).count).toBeGreaterThan(12);
  }, 30_000); // a fresh Node process, as above
});

describe('latticelab predict', () => {
  it('predicts formation energy and gap for a spec, with domain warnings', async () => {
    const { code, out, err } = await run(['predict', 'MoS2:5x5:V@1,W@0']);
    expect(err).toBe('');
    expect(code).toBe(0);
    const j = JSON.parse(out);
    expect(j.spec).toBe('MoS2:5x5:W@0,V@1');
    expect(Number.isFinite(j.formationEnergyPerSite_eV) && Number.isFinite(j.gap_eV)).toBe(true);
    expect(j.sites).toBe(74);
    expect(Array.isArray(j.outOfDomain)).toBe(true);
    // The shipped ensemble's size, and its spread whenever there is more than one member.
    const members =
      (JSON.parse(readFileSync(new URL('../../models/defects/export/megnet-sparse.json', import.meta.url), 'utf8')) as { members?: number }).members ?? 1;
    expect(j.model.members).toBe(members);
    if (members > 1) {
      expect(j.formationEnergySpread_eV > 0 && j.gapSpread_eV > 0).toBe(true);
      expect(j.model.membersDiffer).toMatch(/^trained from different random starts/);
    } else {
      expect(j.formationEnergySpread_eV).toBeUndefined();
      expect(j.model.membersDiffer).toBeUndefined();
    }
  });

  it('reads a list of specs from a JSON file', async () => {
    const f = join(dir, 'specs.json');
    writeFileSync(f, JSON.stringify([{ spec: 'MoS2:4x4:V@1' }, 'WSe2:5x5:Mo@0']));
    const j = JSON.parse((await run(['predict', f])).out);
    expect(j).toHaveLength(2);
  });

  it('explains bad specs and a missing model, exit code 1', async () => {
    expect((await run(['predict', 'MoS2:5x5:V@999'])).err).toMatch(/site 999 is not in the 75-site/);
    expect((await run(['predict', 'Graphite:5x5:V@1'])).err).toMatch(/unknown host/);
    const missing = await run(['predict', 'MoS2:5x5:V@1', '--model', join(dir, 'none.json')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/no model at/);
  });
});

// Sampling loads onnxruntime's WASM and runs 50 denoising steps: 4.8–6.0 s on
// the 2-core machine while the GPAW generators shared it (2026-12-05), past
// the 5 s default, which would then fail for load, not for a bug.
describe('latticelab sample', { timeout: 60_000 }, () => {
  it('prints generated crystals as JSON with formula, space group, validity and property', async () => {
    const { code, out, err } = await run(['sample', '--model', 'perov_5', '--n', '2', '--seed', '3', '--steps-per-level', '1', '--format', 'json']);
    expect(err).toBe('');
    expect(code).toBe(0);
    const j = JSON.parse(out);
    expect(j.model).toBe('perov_5');
    expect(j.steps).toBe(50);
    expect(j.provider).toMatch(/WASM/);
    const manifest = JSON.parse(readFileSync('models/cdvae/export/perov_5/model.json', 'utf8')) as {
      latent_prior?: unknown;
      score_net?: string;
      feature_bound?: { bound: number };
      training: { epochs: number };
    };
    expect(j.latentPrior).toBe(manifest.latent_prior ? 'fitted' : 'standard');
    expect(j.scoreNet).toBe(manifest.score_net ?? 'radial');
    expect(j.epochs).toBe(manifest.training.epochs);
    expect(j.featureBound).toBe(manifest.feature_bound?.bound ?? null);
    expect(j.crystals).toHaveLength(2);
    for (const c of j.crystals) {
      expect(c.formula).toMatch(/^[A-Z]/);
      expect(typeof c.structurallyValid).toBe('boolean');
      expect(c.property.unit).toBe('eV/atom');
      expect(c.frac.length).toBe(c.species.length);
      // marked against the training crystals (known.json) and the batch
      expect(typeof c.new).toBe('boolean');
      expect(typeof c.unique).toBe('boolean');
    }
  });

  it('prints CIF by default, the same crystals for the same seed', async () => {
    const a = await run(['sample', '--n', '2', '--seed', '5', '--steps-per-level', '1']);
    const b = await run(['sample', '--n', '2', '--seed', '5', '--steps-per-level', '1']);
    expect(a.code).toBe(0);
    expect(a.out.match(/^data_/gm)).toHaveLength(2);
    expect(a.out).toContain('_atom_site_fract_x');
    expect(b.out).toBe(a.out);
  });

  it('aims at a property: --target min lowers the head, near VALUE approaches it; carbon_24 too', async () => {
    const low = await run(['sample', '--n', '3', '--seed', '4', '--steps-per-level', '1', '--target', 'min', '--target-steps', '300', '--format', 'json']);
    expect(low.err).toBe('');
    const j = JSON.parse(low.out);
    expect(j.target.objective).toEqual({ kind: 'min' });
    expect(j.target.gradientSteps).toBe(300);
    for (const c of j.crystals) expect(c.property.value).toBeLessThan(c.propertyBeforeTarget);
    const near = await run([
      'sample',
      '--model',
      'carbon_24',
      '--n',
      '2',
      '--seed',
      '4',
      '--steps-per-level',
      '1',
      '--target',
      'energy_per_atom=-154.3',
      '--target-steps',
      '300',
      '--format',
      'json',
    ]);
    expect(near.err).toBe('');
    const k = JSON.parse(near.out);
    expect(k.model).toBe('carbon_24');
    for (const c of k.crystals) {
      expect(new Set(c.species)).toEqual(new Set([6]));
      expect(Math.abs(c.property.value + 154.3)).toBeLessThan(Math.abs(c.propertyBeforeTarget + 154.3));
    }
  });

  it('samples the Materials Project model and aims it at a formation energy by name', async () => {
    const r = await run([
      'sample',
      '--model',
      'mp20_biternary_pilot',
      '--n',
      '2',
      '--seed',
      '2',
      '--steps-per-level',
      '1',
      '--target',
      'formation_energy_per_atom=-2',
      '--target-steps',
      '300',
      '--format',
      'json',
    ]);
    expect(r.err).toBe('');
    const j = JSON.parse(r.out);
    expect(j.model).toBe('mp20_biternary_pilot');
    expect(j.target.objective).toEqual({ kind: 'near', value: -2 });
    for (const c of j.crystals) {
      expect(c.species.length).toBeGreaterThan(0);
      expect(c.species.length).toBeLessThanOrEqual(20);
      expect(Math.abs(c.property.value + 2)).toBeLessThan(Math.abs(c.propertyBeforeTarget + 2));
    }
  });

  it('refuses a target the model does not predict, with the one it does', async () => {
    const gap = await run(['sample', '--n', '1', '--target', 'gap=1.5']);
    expect(gap.code).toBe(1);
    expect(gap.err).toMatch(/perov_5 predicts heat_ref \(heat of formation, eV\/atom\), not 'gap'/);
    expect((await run(['sample', '--n', '1', '--target', 'soon'])).err).toMatch(/--target must be min, max, a number/);
    expect((await run(['sample', '--n', '1', '--target-steps', '5'])).err).toMatch(/--target-steps needs --target/);
  });

  it('refuses bad options and unknown models', async () => {
    expect((await run(['sample', '--n', '0'])).code).toBe(2);
    expect((await run(['sample', '--steps-per-level', '1000'])).err).toMatch(/--steps-per-level must be/);
    const missing = await run(['sample', '--model', 'nope', '--n', '1']);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/no CDVAE named or at 'nope'/);
  });
});
