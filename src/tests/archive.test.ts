import { strFromU8, unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { cifZip, multiFrameXyz, safeFileName } from '../core/formats/archive';
import { readCif } from '../core/formats/cif';
import { readExtxyz } from '../core/formats/extxyz';
import { BUILTINS } from '../core/library/builtins';

const items = BUILTINS.slice(0, 4).map((b) => ({ name: b.name, structure: b.build() }));

describe('dataset export', () => {
  it('zips one readable CIF per structure with unique, safe names', () => {
    const twice = [...items, { ...items[0] }];
    const files = unzipSync(cifZip(twice));
    const names = Object.keys(files);
    expect(names).toHaveLength(5);
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(5);
    names.forEach((n) => expect(n).toMatch(/^[\w.+-]+\.cif$/));
    for (const [name, bytes] of Object.entries(files)) {
      const [s] = readCif(strFromU8(bytes), name);
      expect(s.numSites).toBeGreaterThan(0);
    }
  });

  it('writes all structures as frames of one extended XYZ', () => {
    const frames = readExtxyz(multiFrameXyz(items), 'all.xyz');
    expect(frames.map((f) => f.numSites)).toEqual(items.map((i) => i.structure.numSites));
    expect(frames.map((f) => f.title)).toEqual(items.map((i) => i.name));
  });

  it('makes file-system safe names', () => {
    expect(safeFileName('MoS₂ 4x4 / V_S')).toBe('MoS_4x4_V_S');
    expect(safeFileName('///')).toBe('structure');
  });
});
