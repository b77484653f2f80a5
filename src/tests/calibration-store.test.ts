import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { type CalibrationKey, keyText, recallCalibration, rememberCalibration } from '../app/properties/calibration-store';

const key: CalibrationKey = { adapter: 'google swiftshader', agent: 'Chrome/156', model: '2026-12-06T19:55', threads: 1, cpu: 'wasm', size: 'single' };

describe('the remembered backend choice', () => {
  it('is recalled for the same adapter, browser, model, threads and size class only', async () => {
    expect(await recallCalibration(key)).toBeUndefined();
    await rememberCalibration(key, { backend: 'wasm', why: 'CPU (WebAssembly) chosen by a measurement', measured: '2026-12-06' });
    expect(await recallCalibration(key)).toEqual({ backend: 'wasm', why: 'CPU (WebAssembly) chosen by a measurement', measured: '2026-12-06' });
    for (const other of [{ adapter: 'nvidia' }, { agent: 'Chrome/157' }, { model: 'retrained' }, { threads: 3 }, { size: 'batch' as const }]) {
      expect(await recallCalibration({ ...key, ...other }), JSON.stringify(other)).toBeUndefined();
    }
  });

  it('keys differ whenever a part differs', () => {
    expect(keyText(key)).not.toBe(keyText({ ...key, cpu: 'cpu' }));
  });
});
