import { describe, expect, it } from 'vitest';
import { DEFECT_STEPS, runAttractLoop, SHOWCASE, type AttractActions } from '../app/attract-loop';
import { DefectEditor } from '../core/defects/editor';

function recorder(stopAfter: number, controller: AbortController) {
  const log: string[] = [];
  const note = (s: string) => {
    log.push(s);
    if (log.length >= stopAfter) controller.abort();
  };
  const actions: AttractActions = {
    showBuiltin: (id) => note(`crystal ${id}`),
    startDefects: (host) => note(`defects ${host}`),
    placeDefect: (site, el) => note(`defect ${el ?? 'V'}@${site}`),
    generate: async (seed) => note(`generate ${seed}`),
  };
  return { log, actions };
}

describe('attract loop', () => {
  it('cycles library, defect editor and generation, and round after round shows another crystal', async () => {
    const c = new AbortController();
    const { log, actions } = recorder(14, c);
    await runAttractLoop(actions, c.signal, { scale: 0.001 });
    expect(log.slice(0, 7)).toEqual([
      `crystal ${SHOWCASE[0]}`,
      'defects MoS2',
      'defect V@37',
      'defect W@12',
      'defect V@38',
      'generate 1',
      `crystal ${SHOWCASE[1]}`,
    ]);
    expect(log[7]).toBe('defects MoS2');
  });

  it('stops at once when touched, mid-wait', async () => {
    const c = new AbortController();
    const { log, actions } = recorder(1000, c);
    const run = runAttractLoop(actions, c.signal, { scale: 1 });
    await new Promise((r) => setTimeout(r, 20));
    const t0 = performance.now();
    c.abort();
    await run;
    expect(performance.now() - t0).toBeLessThan(50);
    expect(log).toEqual([`crystal ${SHOWCASE[0]}`]);
  });

  it('places defects on the sites it says: an S vacancy, W on Mo, another S vacancy', () => {
    const pristine = new DefectEditor({ host: 'MoS2', size: 5, edits: [] }).pristine();
    expect(DEFECT_STEPS.map((d) => pristine.species[d.site])).toEqual(['S', 'Mo', 'S']);
  });
});
