/**
 * `latticelab predict FILE` with a structure file (issue 26): the same
 * numbers as `predict SPEC` for the configuration the file holds, with the
 * host, size and spec it was read as; one line naming the file, exit code 1,
 * for whatever it cannot map.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../cli/main';
import { DefectEditor } from '../core/defects/editor';
import { formatDefectSpec } from '../core/defects/spec';
import { type FormatId, writeStructures } from '../core/formats/index';
import { Structure } from '../core/structure';

const dir = mkdtempSync(join(tmpdir(), 'latticelab-predict-file-'));

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

function write(name: string, structures: Structure[], format: FormatId): string {
  const path = join(dir, name);
  writeFileSync(path, writeStructures(structures, format));
  return path;
}

/** The fields predict SPEC prints too, less the timing. */
const FILE_ONLY = ['ms', 'file', 'structure', 'host', 'size', 'maxDeviation_A'];
const numbers = (j: Record<string, unknown>) => Object.fromEntries(Object.entries(j).filter(([k]) => !FILE_ONLY.includes(k)));

const editor = new DefectEditor({ host: 'WSe2', size: 5, edits: [] });
editor.setSite(0, 'Mo');
editor.setSite(33, null);
editor.setSite(60, 'S');
const spec = formatDefectSpec(editor);

describe('latticelab predict FILE', () => {
  it.each([
    ['POSCAR', 'poscar'],
    ['defects.cif', 'cif'],
    ['defects.xyz', 'xyz'],
    ['defects.json', 'json'],
  ] as const)('%s: the same JSON as predict SPEC, plus the file, host, size and how closely it matched', async (name, format) => {
    const bySpec = await run(['predict', spec]);
    expect(bySpec.code).toBe(0);
    const path = write(name, [editor.structure()], format);
    const { code, out, err } = await run(['predict', path]);
    expect(err).toBe('');
    expect(code).toBe(0);
    const j = JSON.parse(out) as Record<string, unknown>;
    expect(j).toMatchObject({ file: path, host: 'WSe2', size: 5, spec: 'WSe2:5x5:Mo@0,V@33,S@60' });
    expect(j.maxDeviation_A).toBeLessThan(1e-4);
    expect(numbers(j)).toEqual(numbers(JSON.parse(bySpec.out)));
  });

  it('a file of several structures gives one prediction each, numbered from 1', async () => {
    const other = new DefectEditor({ host: 'hBN', size: 6, edits: [] });
    other.setSite(7, 'C');
    const path = write('two.xyz', [editor.structure(), other.structure()], 'xyz');
    const { code, out } = await run(['predict', path]);
    expect(code).toBe(0);
    const j = JSON.parse(out) as Record<string, unknown>[];
    expect(j.map((x) => [x.structure, x.host, x.size, x.spec])).toEqual([
      [1, 'WSe2', 5, spec],
      [2, 'hBN', 6, 'hBN:6x6:C@7'],
    ]);
  });

  it('a translated and slightly relaxed copy predicts the same as its spec', async () => {
    const s = editor.structure();
    const jiggle = [0.05, -0.08, 0.11];
    const copy = Structure.fromCartesian({
      lattice: s.lattice,
      species: s.species,
      cart: s.cart.map((r, k) => [r[0] + 0.6 + jiggle[k % 3], r[1] - 0.2, r[2] + 3 + jiggle[(k + 1) % 3]]),
      pbc: s.pbc,
    });
    const j = JSON.parse((await run(['predict', write('relaxed.vasp', [copy], 'poscar')])).out) as Record<string, unknown>;
    expect(j.spec).toBe(spec);
    expect(j.maxDeviation_A).toBeGreaterThan(0.05);
    expect(numbers(j)).toEqual(numbers(JSON.parse((await run(['predict', spec])).out)));
  });

  it.each([
    [
      'a pristine supercell',
      () => write('pristine.cif', [editor.pristine()], 'cif'),
      /pristine\.cif: a pristine WSe2 5x5 supercell, no vacancies or substitutions; the model predicts the formation energy and gap of defects, so there is nothing to predict\n$/,
    ],
    [
      'an interstitial',
      () => {
        const s = editor.structure();
        return write(
          'adatom.xyz',
          [Structure.fromCartesian({ lattice: s.lattice, species: [...s.species, 'Se'], cart: [...s.cart, [0.5, 0.5, 14]], pbc: s.pbc })],
          'xyz',
        );
      },
      /adatom\.xyz: atom 75 \(Se at 0\.50, 0\.50, 14\.00 Å\) is \d+\.\d\d Å from the nearest WSe2 5x5 site .*interstitials, adatoms and displacements beyond 0\.3 Å are not supported\n$/,
    ],
    [
      'a bulk crystal',
      () =>
        write(
          'si.cif',
          [
            new Structure({
              lattice: [
                [5.431, 0, 0],
                [0, 5.431, 0],
                [0, 0, 5.431],
              ],
              species: ['Si'],
              frac: [[0, 0, 0]],
            }),
          ],
          'cif',
        ),
      /si\.cif: the cell \(a = 5\.431 Å.* is not an n x n supercell/,
    ],
    [
      'one structure of several',
      () => write('mixed.xyz', [editor.structure(), editor.pristine()], 'xyz'),
      /mixed\.xyz: structure 2: a pristine WSe2 5x5 supercell/,
    ],
    [
      'a file in no format',
      () => {
        const path = join(dir, 'notes.txt');
        writeFileSync(path, 'MoS2 with a vacancy, see lab book p. 12\n');
        return path;
      },
      /notes\.txt: neither defect specs \(JSON\) nor a structure file/,
    ],
    [
      'a malformed structure file',
      () => {
        const path = join(dir, 'bad.vasp');
        writeFileSync(path, 'x\n1\n1 0 0\n0 1 0\n0 0 1\nSi\n1\nDirect\n0 zero 0\n');
        return path;
      },
      /bad\.vasp, line 9/,
    ],
  ])('%s: one line naming the file, exit code 1', async (_, make, why) => {
    const { code, out, err } = await run(['predict', make()]);
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toMatch(why);
    expect(err.trim().split('\n')).toHaveLength(1);
  });

  it('still reads a JSON list of specs, and still wants exactly one argument (exit code 2)', async () => {
    const path = join(dir, 'specs.json');
    writeFileSync(path, JSON.stringify([spec, { spec: 'MoS2:4x4:V@1' }]));
    expect((JSON.parse((await run(['predict', path])).out) as unknown[]).length).toBe(2);
    expect((await run(['predict'])).code).toBe(2);
  });
});
