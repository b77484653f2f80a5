/**
 * Facts the README states about the shipped models, checked against the
 * files themselves so the prose cannot drift from what ships (the README
 * once said "an ensemble of 3" for a six-member defect model).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const read = (p: string) => readFileSync(fileURLToPath(new URL(`../../${p}`, import.meta.url)), 'utf8');
const readme = read('README.md');

describe('README facts', () => {
  it('gives the defect ensemble its shipped member count', () => {
    const members = (JSON.parse(read('models/defects/export/megnet-sparse.json')) as { members: number }).members;
    const stated = /defect[\s\S]{0,600}?an ensemble of (\d+)\s+independently trained models/.exec(readme);
    expect(stated, 'the README no longer states the defect ensemble size').not.toBeNull();
    expect(Number(stated![1])).toBe(members);
  });

  it('credits the sparse defect representation to Kazeev et al. and the 2DMD dataset to Huang et al.', () => {
    expect(readme).toMatch(/sparse defect graph \(the representation of Kazeev et al\./);
    expect(readme).toMatch(/2DMD dataset of Huang et al\./);
  });

  it('credits the model comparison (SchNet, GemNet, full MEGNet, CatBoost) to Kazeev et al., not to the dataset paper (issue 28)', () => {
    for (const doc of ['models/RESULTS.md', 'models/defects/README.md', 'models/defects/REPRESENTATION.md']) {
      const text = read(doc);
      expect(text, doc).not.toMatch(/model comparison of the 2DMD paper|sparse defect graph\*?\s+of Huang|After Huang et al\./);
      expect(text, doc).toMatch(/Kazeev et al\./);
    }
    expect(read('models/RESULTS.md')).toMatch(/37 ± 2 meV\/site .* 105 ± 2 meV .* compare with care/);
  });
});
