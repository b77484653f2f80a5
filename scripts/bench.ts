/**
 * Compute-core benchmark (`npm run bench`, after `vite build`): drives the
 * built GPU lab page in Chromium and prints Markdown tables of
 *  1. the periodic neighbour list for N = 10^2 … 10^5 atoms, WebGPU and the
 *     CPU reference in the same browser, same run (ratio = CPU ms / GPU ms);
 *  2. MEGNet message passing on a 192-atom MoS2 8x8 supercell with one S
 *     vacancy: latency of one re-evaluation and graphs/s when 16 such
 *     graphs are batched into one dispatch, WebGPU and CPU;
 *  3. the shipped sparse-defect model as the defect editor runs it.
 * Each figure is the best of several runs after a warm-up (pipeline
 * compilation excluded). Results go into bench/RESULTS.md by hand, with the
 * date and the adapter this prints.
 *
 *   npm run bench            (all)
 *   npm run bench -- --quick (N ≤ 10^4, fewer repeats)
 *   npm run bench -- --only 3 (one section, e.g. after a retrain)
 */
import { batchGraphs } from '../src/core/graph/batch.ts';
import { structureGraph } from '../src/core/graph/crystal-graph.ts';
import type { MegnetShape } from '../src/core/graph/megnet.ts';
import { Lattice } from '../src/core/lattice.ts';
import { builtinById } from '../src/core/library/builtins.ts';
import { repeat } from '../src/core/structure.ts';
import { sparseDefectGraph } from '../src/core/defects/representation.ts';
import { parseDefectSpec } from '../src/core/defects/spec.ts';
import { rng } from '../src/tests/neighbor-cases.ts';
import { openGpuLab } from './gpu-lab-page.ts';

const quick = process.argv.includes('--quick');
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? Number(process.argv[onlyAt + 1]) : 0;
if (onlyAt >= 0 && ![1, 2, 3].includes(only)) throw new Error('--only takes a section number, 1, 2 or 3');
const section = (k: number) => !only || only === k;
const port = Number(process.env.BENCH_PORT ?? 4273);
const { page, browser, close } = await openGpuLab(port);
try {
  const info = await page.evaluate(() => window.gpuLab.info());
  if ('error' in info) throw new Error(`no WebGPU in this Chromium: ${info.error}`);
  console.log(`Date: ${new Date().toISOString().slice(0, 10)}; adapter: ${info.adapter}${info.software ? ' (software)' : ''}; Chromium ${browser.version()}\n`);

  // 1. Neighbour lists: random atoms at 0.07 Å⁻³ (a typical solid) in a
  // triclinic cell, cutoff 5 Å (~37 neighbours per atom).
  if (section(1)) {
    console.log('### Periodic neighbour list (r_c = 5 Å, 0.07 atoms/Å³, triclinic, fully periodic)\n');
    console.log('| atoms | edges | WebGPU ms (grid / count / fill) | WebGPU Medges/s | CPU ms | CPU Medges/s | CPU ms / WebGPU ms |');
    console.log('|---:|---:|---|---:|---:|---:|---:|');
  }
  const sizes = !section(1) ? [] : quick ? [100, 1000, 10_000] : [100, 1000, 10_000, 100_000];
  for (const n of sizes) {
    const edge = Math.cbrt(n / 0.07);
    const lattice = Lattice.fromParameters(edge, edge * 1.02, edge * 0.98, 84, 97, 103).matrix;
    const r = rng(n);
    const frac = Array.from({ length: 3 * n }, () => r());
    const args = { lattice, pbc: [true, true, true] as [boolean, boolean, boolean], frac, cutoff: 5, summary: true };
    const reps = quick || n >= 100_000 ? 3 : 5;
    await page.evaluate((a) => window.gpuLab.neighborsGpu(a), { ...args, repeat: 1 }); // warm-up
    const g = await page.evaluate((a) => window.gpuLab.neighborsGpu(a), { ...args, repeat: reps });
    if ('error' in g) throw new Error(g.error);
    const c = await page.evaluate((a) => window.gpuLab.neighborsCpu(a), { ...args, repeat: reps });
    if (g.count !== c.count) console.warn(`  (N=${n}: GPU ${g.count} edges vs CPU ${c.count}: float32 ties at the cutoff)`);
    const t = g.timings;
    console.log(
      `| ${n.toLocaleString('en-US')} | ${c.count.toLocaleString('en-US')} | ${g.ms.toFixed(1)} (${t.grid.toFixed(1)} / ${t.count.toFixed(1)} / ${t.fill.toFixed(1)}) | ${(g.count / g.ms / 1e3).toFixed(2)} | ${c.ms.toFixed(1)} | ${(c.count / c.ms / 1e3).toFixed(2)} | ${(c.ms / g.ms).toFixed(2)} |`,
    );
  }

  // 2. MEGNet on MoS2 8x8 with one S vacancy (191 atoms), full graph.
  // Sizes of the original MEGNet (Chen et al. 2019): 100 Gaussians to 5 Å,
  // 64-32 MLPs, 32 features, 3 blocks, Set2Set with 3 steps.
  const shape: MegnetShape = { nodeIn: 4, stateIn: 2, rbf: 100, cutoff: 5, hidden: 64, features: 32, blocks: 3, outputs: 2 };
  const host = repeat(builtinById('mos2-monolayer')!.build(), [8, 8, 1]);
  const vacancyAt = (site: number) => {
    const keep = [...Array(host.numSites).keys()].filter((i) => i !== site);
    return host.with({ species: keep.map((i) => host.species[i]), frac: keep.map((i) => host.frac[i]) });
  };
  const sSites = host.species.flatMap((el, i) => (el === 'S' ? [i] : []));
  const json = (site: number) => {
    const g = structureGraph(vacancyAt(site), shape.cutoff, Float32Array.from([0, 1]));
    return {
      nodes: Array.from(g.nodes.data),
      nodeCols: g.nodes.cols,
      dist: Array.from(g.edges.data),
      src: Array.from(g.src),
      dst: Array.from(g.dst),
      state: Array.from(g.state!),
    };
  };
  const one = [json(sSites[0])];
  const sixteen = sSites.slice(0, 16).map(json);
  const edges = batchGraphs([structureGraph(vacancyAt(sSites[0]), shape.cutoff, Float32Array.from([0, 1]))]).edges.rows;
  if (section(2))
    console.log(
      `\n### MEGNet message passing: MoS2 8x8 with one S vacancy (${host.numSites - 1} atoms, ${edges.toLocaleString('en-US')} edges within 5 Å), 3 blocks, width 32, Set2Set\n`,
    );
  if (section(2)) {
    console.log('| batch | WebGPU ms per forward | WebGPU graphs/s | CPU ms per forward | CPU graphs/s | CPU ms / WebGPU ms |');
    console.log('|---:|---:|---:|---:|---:|---:|');
  }
  for (const graphs of section(2) ? [one, sixteen] : []) {
    const args = { shape, seed: 1, graphs, repeat: quick ? 2 : 5 };
    const g = await page.evaluate((a) => window.gpuLab.megnetGpu(a), args);
    if ('error' in g) throw new Error(g.error);
    const c = await page.evaluate((a) => window.gpuLab.megnetCpu(a), args);
    const B = graphs.length;
    console.log(
      `| ${B} | ${g.ms.toFixed(1)} | ${((1000 * B) / g.ms).toFixed(1)} | ${c.ms.toFixed(1)} | ${((1000 * B) / c.ms).toFixed(1)} | ${(c.ms / g.ms).toFixed(2)} |`,
    );
  }

  // 3. The shipped sparse-defect model, as the defect editor runs it per edit.
  if (section(3)) {
    console.log('\n### Sparse-defect MEGNet (the defect editor’s model), one configuration per forward\n');
    // A prediction runs every ensemble member (the app averages them).
    // WebGPU twice: every member in one submission (what the lab runs), and
    // one submission per member (before 2026-12-04), in the same run.
    console.log(
      '| configuration | nodes | edges | members | CPU ms per prediction | WebGPU ms, one submission | WebGPU ms, one submission per member | CPU ms / WebGPU ms (one submission) |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  }
  for (const spec of section(3) ? ['MoS2:8x8:V@1', 'MoS2:5x5:V@1,W@0', 'MoS2:3x3:V@1,W@0,Se@2'] : []) {
    const g = sparseDefectGraph(parseDefectSpec(spec).config());
    const graph = {
      nodes: Array.from(g.nodes.data),
      nodeCols: g.nodes.cols,
      dist: Array.from(g.edges.data),
      src: Array.from(g.src),
      dst: Array.from(g.dst),
      state: Array.from(g.state!),
    };
    const c = await page.evaluate((a) => window.gpuLab.defectModelCpu(a), { graphs: [graph], repeat: 50 });
    // The two WebGPU ways alternate over 8 calls (ABBA twice) and each keeps its
    // best: software WebGPU's timings drift within a run, so one call each,
    // one after the other, measured the order as much as the method.
    const best = { one: Infinity, each: Infinity };
    for (const perMember of [false, true, true, false, false, true, true, false]) {
      const r = await page.evaluate((a) => window.gpuLab.defectModelGpu(a), { graphs: [graph], repeat: 5, perMember });
      if ('error' in r) throw new Error(r.error);
      const k = perMember ? 'each' : 'one';
      best[k] = Math.min(best[k], r.ms);
    }
    console.log(
      `| ${spec} | ${g.nodes.rows} | ${g.edges.rows} | ${c.members.length} | ${c.ms.toFixed(2)} | ${best.one.toFixed(1)} | ${best.each.toFixed(1)} | ${(c.ms / best.one).toFixed(3)} |`,
    );
  }
} finally {
  await close();
}
