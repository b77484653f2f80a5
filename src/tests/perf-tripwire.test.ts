/**
 * Performance tripwire: the CPU neighbour list and the CPU MEGNet fail the
 * suite when they get more than 2x slower than a stored baseline.
 *
 * Absolute times mean nothing across machines (or on one machine under
 * load), so every workload is timed against a calibration loop measured in
 * the same run: a fixed pure-JS kernel of the same character (a dense layer
 * over Float32Arrays with float64 sums and softplus, and an indexed gather
 * of float64 coordinates with a distance test, as in a cell-list walk).
 *
 *   ratio = workload time / calibration time per calibration unit
 *
 * Each time is the minimum over several repetitions, interleaved
 * (calibrate, workload, calibrate, workload, ...) after a warm-up, and the
 * calibration window before each workload is about as long as the workload
 * itself, so load from other processes inflates neither side
 * systematically. Every timed region starts after a young-generation
 * collection, so that none pays for the garbage of the one before. Times are
 * taken on two clocks, wall and process CPU time, and so is the ratio; the
 * verdict uses the smaller of the two factors (current ratio / stored
 * ratio): a real slowdown shows on both clocks, while load mostly inflates
 * one (on a 2-core machine with a busy neighbour process, the 2,000-atom
 * neighbour list's best wall time doubled while its CPU time did not).
 * The baseline (perf-baselines.json) is those ratios measured on one
 * machine; a workload fails when it is more than 2x slower than stored.
 * When it comes out above the limit, the test keeps measuring (more
 * interleaved rounds, still min-of) for a few seconds before it judges: a
 * real slowdown stays above the limit however often it is measured, a burst
 * of load does not.
 *
 * Refresh the baselines (after an intended change of speed, or of the
 * workloads or the calibration kernel below, which must otherwise stay
 * fixed) on a reasonably quiet machine, and commit the JSON:
 *
 *   LATTICELAB_PERF_UPDATE=1 npx vitest run src/tests/perf-tripwire.test.ts
 *
 * That takes each measurement five times, keeps the median ratio of each
 * workload and rewrites perf-baselines.json with it, the date and the
 * machine (os.cpus()[0].model, core count, Node version).
 *
 * Check that the tripwire can fail: every workload run N times inside its
 * timed region must fail the suite for N = 3:
 *
 *   LATTICELAB_PERF_SLOWDOWN=3 npx vitest run src/tests/perf-tripwire.test.ts
 *
 * (a self-test below does the same for one workload in every run, against the
 * same run's own 1x ratio). LATTICELAB_PERF_SKIP=1 skips the timed tests,
 * e.g. under coverage instrumentation, which slows the workloads but not the
 * calibration kernel in this file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPropertyModel } from '../cli/properties';
import { batchGraphs } from '../core/graph/batch';
import { builtinById, BUILTINS } from '../core/library/builtins';
import { neighborListCpu } from '../core/neighbors/cpu';
import type { NeighborInput } from '../core/neighbors/types';
import { repeat, type Structure } from '../core/structure';
import { randomCell, randomFrac, rng } from './neighbor-cases';

const BASELINE_FILE = fileURLToPath(new URL('./perf-baselines.json', import.meta.url));
const UPDATE = process.env.LATTICELAB_PERF_UPDATE === '1';
const SKIP = process.env.LATTICELAB_PERF_SKIP === '1';
const SLOWDOWN = Math.max(1, Math.floor(Number(process.env.LATTICELAB_PERF_SLOWDOWN ?? '1')) || 1);
/** A workload fails when its ratio exceeds this multiple of the stored ratio. */
const THRESHOLD = 2;
/** Per test; refreshing the baselines measures five times. */
const TIMEOUT_MS = UPDATE ? 300_000 : 60_000;

// ---------------------------------------------------------------------------
// Calibration kernel. Changing it changes every ratio: refresh the baselines.

const CAL_ROWS = 32;
const CAL_IN = 64;
const CAL_OUT = 64;
const CAL_POINTS = 4096;
const CAL_PAIRS = 32_768;

const calibrationData = (() => {
  const r = rng(20_240_601);
  const x = Float32Array.from({ length: CAL_ROWS * CAL_IN }, () => r() * 2 - 1);
  const w = Float32Array.from({ length: CAL_IN * CAL_OUT }, () => (r() * 2 - 1) / 8);
  const y = new Float32Array(CAL_ROWS * CAL_OUT);
  const acc = new Float64Array(CAL_OUT);
  const pos = Float64Array.from({ length: 3 * CAL_POINTS }, () => r() * 20);
  const pairs = Int32Array.from({ length: 2 * CAL_PAIRS }, () => Math.floor(r() * CAL_POINTS));
  const hits = new Int32Array(CAL_PAIRS);
  return { x, w, y, acc, pos, pairs, hits };
})();

/** One calibration unit (about 0.2 ms on the machine of the stored baselines): a 32x64 · 64x64 dense layer with softplus, and 32k indexed pair distances. */
function calibrationUnit(): number {
  const { x, w, y, acc, pos, pairs, hits } = calibrationData;
  for (let r = 0; r < CAL_ROWS; r++) {
    acc.fill(0);
    for (let i = 0; i < CAL_IN; i++) {
      const xv = x[r * CAL_IN + i];
      const row = i * CAL_OUT;
      for (let c = 0; c < CAL_OUT; c++) acc[c] += xv * w[row + c];
    }
    for (let c = 0; c < CAL_OUT; c++) {
      const v = acc[c];
      y[r * CAL_OUT + c] = Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
    }
  }
  let count = 0;
  for (let p = 0; p < CAL_PAIRS; p++) {
    const a = 3 * pairs[2 * p];
    const b = 3 * pairs[2 * p + 1];
    const dx = pos[b] - pos[a];
    const dy = pos[b + 1] - pos[a + 1];
    const dz = pos[b + 2] - pos[a + 2];
    const d2 = dx * dx + dy * dy + dz * dz;
    if (d2 < 36) hits[count++] = p;
  }
  return count + y[count % y.length];
}

// ---------------------------------------------------------------------------
// Measurement.

interface Workload {
  name: string;
  what: string;
  run: () => number;
}

/** Minimum times over the repetitions (ms), on the wall clock and in process CPU time, and their ratios. */
interface Times {
  /** The workload, ms. */
  ms: number;
  /** The calibration window, per calibration unit, ms. */
  calibrationMs: number;
  /** ms / calibrationMs. */
  ratio: number;
  cpuMs: number;
  calibrationCpuMs: number;
  cpuRatio: number;
}

interface Measurement extends Times {
  name: string;
  reps: number;
}

interface Baseline extends Times {
  what: string;
}

interface BaselineFile {
  about: string;
  updated: string;
  machine: { cpu: string; cores: number; node: string };
  threshold: number;
  workloads: Record<string, Baseline>;
}

/** Keeps results alive so that nothing timed can be optimised away. */
let sink = 0;

type Gc = (options?: { type: 'minor' | 'major' }) => void;

/**
 * A young-generation collection, run before every timed region so that none
 * pays for the garbage of the one before: the neighbour list and the MEGNet
 * allocate megabytes per call, and whether a scavenge falls inside a run
 * otherwise changes its time by up to 3x. V8's gc() is exposed at run time
 * (a no-op if that is refused).
 */
const collect: () => void = (() => {
  let gc = (globalThis as { gc?: Gc }).gc;
  if (!gc) {
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as Gc;
    } catch {
      return () => {};
    }
  }
  const g = gc;
  return () => g({ type: 'minor' });
})();

/** Process CPU time, ms (precise on Linux: the scheduler's runtime, not ticks). */
function cpuNow(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

/** Wall-clock and CPU time of one call, ms. */
function clock(f: () => number): { wall: number; cpu: number } {
  collect();
  const c0 = cpuNow();
  const t0 = performance.now();
  sink += f();
  const wall = performance.now() - t0;
  return { wall, cpu: cpuNow() - c0 };
}

const time = (f: () => number) => clock(f).wall;

const calibrate = (units: number) => () => {
  let s = 0;
  for (let u = 0; u < units; u++) s += calibrationUnit();
  return s;
};

interface MeasureOptions {
  /** Warm-up: at least this many runs of each workload, and at least warmupMs on each. */
  warmup: number;
  warmupMs: number;
  /** ... and until the best time has not improved by 5% for this many runs. */
  settle?: number;
  /** Rounds: at least reps for every workload, and more for short ones, until each has run for about busyMs. */
  reps: number;
  busyMs?: number;
  /**
   * After the rounds, while some workloads are unsettled (their indices; the
   * verdict would be the unexpected one), keep measuring those, for at most
   * extraMs. More rounds only bring each minimum closer to the quiet-machine
   * time, so a real difference survives them and a burst of load does not.
   */
  unsettled?: (m: Measurement[]) => number[];
  extraMs?: number;
}

/**
 * Runs f at least `runs` times and for at least `ms`, then until its best
 * time has not improved by 5% for `settle` runs in a row (the optimising
 * compiler works in the background, slowly on a loaded machine), for at
 * most 3 s; returns the best time.
 */
function warm(f: () => number, runs: number, ms: number, settle: number): number {
  const start = performance.now();
  let best = Infinity;
  let since = 0;
  for (let k = 1; ; k++) {
    const t = time(f);
    since = t < 0.95 * best ? 0 : since + 1;
    best = Math.min(best, t);
    const elapsed = performance.now() - start;
    if (k >= runs && elapsed >= ms && (since >= settle || elapsed > 3_000)) return best;
  }
}

/**
 * Minimum times of each workload and of a calibration window just before it,
 * as long as the workload, interleaved: (cal, w1, cal, w2) per round.
 */
function measure(workloads: Workload[], opts: MeasureOptions): Measurement[] {
  // Warm-up (JIT tiers, caches, lazy allocations), and the lengths of a calibration unit and of each workload.
  const unitMs = warm(calibrate(4), 10, 50, 10) / 4;
  const workMs = workloads.map((w) => warm(w.run, opts.warmup, opts.warmupMs, opts.settle ?? 0));
  const best = workloads.map((_, i) => ({ ms: Infinity, cal: Infinity, cpuMs: Infinity, cpuCal: Infinity, reps: 0, estimate: workMs[i] }));
  const round = (i: number) => {
    const b = best[i];
    // The calibration window lasts about as long as the workload (the best time so far).
    const units = Math.max(2, Math.min(1000, Math.round(Math.min(b.estimate, b.ms) / unitMs)));
    const cal = clock(calibrate(units));
    const work = clock(workloads[i].run);
    b.cal = Math.min(b.cal, cal.wall / units);
    b.cpuCal = Math.min(b.cpuCal, cal.cpu / units);
    b.ms = Math.min(b.ms, work.wall);
    b.cpuMs = Math.min(b.cpuMs, work.cpu);
    b.reps++;
  };
  // At least opts.reps rounds each; short workloads get more (more chances of a quiet moment, at little cost).
  const wanted = (i: number) => Math.max(opts.reps, Math.min(100, Math.ceil((opts.busyMs ?? 0) / Math.min(best[i].estimate, best[i].ms))));
  for (let more = true; more;) {
    more = false;
    workloads.forEach((_, i) => {
      if (best[i].reps < wanted(i)) {
        round(i);
        more = true;
      }
    });
  }
  const results = () =>
    workloads.map((w, i) => {
      const b = best[i];
      return {
        name: w.name,
        reps: b.reps,
        ms: b.ms,
        calibrationMs: b.cal,
        ratio: b.ms / b.cal,
        cpuMs: b.cpuMs,
        calibrationCpuMs: b.cpuCal,
        cpuRatio: b.cpuMs / b.cpuCal,
      };
    });
  if (opts.unsettled) {
    const end = performance.now() + (opts.extraMs ?? 0);
    for (let o = opts.unsettled(results()); o.length && performance.now() < end; o = opts.unsettled(results())) o.forEach(round);
  }
  return results();
}

const fmt = (x: number, d = 2) => x.toFixed(d);

/**
 * How many times slower than the baseline: the smaller of the wall-clock and
 * the CPU-time factors. A workload that really got slower is slower on both
 * clocks; load inflates mostly one (CPU time does not count the moments the
 * process waits for a core, and wall-clock time does not count the garbage
 * collector's helper threads running beside it).
 */
function slowdown(current: Times, baseline: Times): { factor: number; wall: number; cpu: number } {
  const wall = current.ratio / baseline.ratio;
  const cpu = current.cpuRatio / baseline.cpuRatio;
  return { factor: Math.min(wall, cpu), wall, cpu };
}

/** The verdict on one workload: ok when it is at most `threshold` times slower than the stored baseline. */
function judge(
  current: Measurement,
  baseline: Baseline | undefined,
  threshold = THRESHOLD,
  against = 'stored',
): { ok: boolean; factor: number; message: string } {
  if (!baseline || !(baseline.ratio > 0 && baseline.cpuRatio > 0)) {
    return {
      ok: false,
      factor: NaN,
      message: `${current.name}: no stored baseline (or one without both ratios); run LATTICELAB_PERF_UPDATE=1 npx vitest run src/tests/perf-tripwire.test.ts and commit src/tests/perf-baselines.json`,
    };
  }
  const { factor, wall, cpu } = slowdown(current, baseline);
  const ok = factor <= threshold;
  const message =
    `${current.name}: ${fmt(factor)}x the baseline (limit ${threshold}x; min of ${current.reps}) — ` +
    `wall: ratio ${fmt(current.ratio)} now (${fmt(current.ms)} ms / calibration ${fmt(current.calibrationMs, 4)} ms) vs ${fmt(baseline.ratio)} ${against} (${fmt(baseline.ms)} ms / ${fmt(baseline.calibrationMs, 4)} ms) = ${fmt(wall)}x; ` +
    `CPU: ratio ${fmt(current.cpuRatio)} now (${fmt(current.cpuMs)} ms / ${fmt(current.calibrationCpuMs, 4)} ms) vs ${fmt(baseline.cpuRatio)} ${against} (${fmt(baseline.cpuMs)} ms / ${fmt(baseline.calibrationCpuMs, 4)} ms) = ${fmt(cpu)}x` +
    (ok ? '' : ' — the workload got slower; if that is intended, refresh the baselines (see the top of perf-tripwire.test.ts)');
  return { ok, factor, message };
}

// ---------------------------------------------------------------------------
// Baselines.

function readBaselines(): BaselineFile | null {
  try {
    return JSON.parse(readFileSync(BASELINE_FILE, 'utf8')) as BaselineFile;
  } catch {
    return null;
  }
}

const stored = readBaselines();
const fresh = new Map<string, Baseline>();
/** Over the limit against the stored baseline (none stored: nothing to settle). */
const over = (m: Measurement) => {
  const b = stored?.workloads[m.name];
  return b !== undefined && slowdown(m, b).factor > THRESHOLD;
};

/**
 * Measures the workloads for the comparison. When refreshing the baselines,
 * the same measurement is taken five times and the median ratio of each
 * workload kept, so that the stored ratio is a typical one.
 */
function measureForCheck(workloads: Workload[], opts: MeasureOptions): Measurement[] {
  if (!UPDATE) return measure(workloads, { ...opts, unsettled: (ms) => ms.flatMap((m, i) => (over(m) ? [i] : [])) });
  const runs = [0, 1, 2, 3, 4].map(() => measure(workloads, opts));
  return workloads.map((_, i) => {
    const wall = runs.map((r) => r[i]).sort((a, b) => a.ratio - b.ratio)[2];
    const cpu = runs.map((r) => r[i]).sort((a, b) => a.cpuRatio - b.cpuRatio)[2];
    return { ...wall, cpuMs: cpu.cpuMs, calibrationCpuMs: cpu.calibrationCpuMs, cpuRatio: cpu.cpuRatio };
  });
}

function check(workloads: Workload[], results: Measurement[]): void {
  const failures: string[] = [];
  results.forEach((m, i) => {
    const r4 = (x: number) => Number(x.toPrecision(4));
    fresh.set(m.name, {
      what: workloads[i].what,
      ratio: r4(m.ratio),
      ms: r4(m.ms),
      calibrationMs: r4(m.calibrationMs),
      cpuRatio: r4(m.cpuRatio),
      cpuMs: r4(m.cpuMs),
      calibrationCpuMs: r4(m.calibrationCpuMs),
    });
    const v = judge(m, stored?.workloads[m.name]);
    console.log(`[perf] ${v.message}`);
    if (!v.ok) failures.push(v.message);
  });
  if (!UPDATE) expect(failures, failures.join('\n')).toEqual([]);
}

afterAll(() => {
  if (!UPDATE || SKIP) return;
  const cpu = cpus();
  const file: BaselineFile = {
    about:
      'Stored ratios (workload time / calibration-kernel time, each the minimum over interleaved repetitions; ratio on the wall clock, cpuRatio in process CPU time) for src/tests/perf-tripwire.test.ts; ' +
      'a workload fails the suite when both of its ratios exceed threshold x the stored ones. ' +
      'Refresh with: LATTICELAB_PERF_UPDATE=1 npx vitest run src/tests/perf-tripwire.test.ts (rewrites this file, with the median of five measurements; commit it). The ms fields are for information only.',
    updated: new Date().toISOString().slice(0, 10),
    machine: { cpu: cpu[0]?.model ?? 'unknown', cores: cpu.length, node: process.version },
    threshold: THRESHOLD,
    // Workloads not measured in this run (vitest -t ...) keep their stored baselines.
    workloads: Object.fromEntries(Object.entries({ ...stored?.workloads, ...Object.fromEntries(fresh) }).sort(([a], [b]) => a.localeCompare(b))),
  };
  writeFileSync(BASELINE_FILE, `${JSON.stringify(file, null, 2)}\n`);
  console.log(`[perf] wrote ${BASELINE_FILE}`);
});

// ---------------------------------------------------------------------------
// Workloads (deterministic).

const slow = (f: () => number, n: number) => () => {
  let s = 0;
  for (let k = 0; k < n; k++) s += f();
  return s;
};

function neighborWorkloads(): Workload[] {
  const cu = repeat(builtinById('cu')!.build(), [8, 8, 7]);
  const cuInput: NeighborInput = { lattice: cu.lattice.matrix, pbc: cu.pbc, frac: cu.frac, cutoff: 3.2 };
  const r = rng(2_000);
  const randomInput: NeighborInput = { lattice: randomCell(r, 28, 32), pbc: [true, true, true], frac: randomFrac(r, 2000), cutoff: 5 };
  return [
    {
      name: 'neighbors-cu-fcc-1792-3.2A',
      what: `neighborListCpu, fcc Cu 8x8x7 conventional cells (${cu.numSites} sites), cutoff 3.2 Å`,
      run: slow(() => neighborListCpu(cuInput).count, SLOWDOWN),
    },
    {
      name: 'neighbors-random-triclinic-2000-5A',
      what: 'neighborListCpu, 2,000 random atoms (rng(2000)) in a random triclinic cell of 28–32 Å, cutoff 5 Å',
      run: slow(() => neighborListCpu(randomInput).count, SLOWDOWN),
    },
  ];
}

function megnetWorkloads(): Workload[] {
  const model = loadPropertyModel();
  const forward = (structures: Structure[]) => () => {
    const each = model.forwardMembers(batchGraphs(structures.map((s) => model.graph(s))));
    return each[0][0];
  };
  const nacl = repeat(builtinById('nacl')!.build(), [2, 2, 3]);
  const small = BUILTINS.filter((b) => b.category === 'bulk')
    .slice(0, 16)
    .map((b) => b.build());
  if (small.length !== 16) throw new Error(`expected 16 bulk built-ins, got ${small.length}`);
  return [
    {
      name: 'megnet-cpu-nacl-96',
      what: `PropertyModel.forwardMembers(batchGraphs([graph])) (CPU MEGNet), rock-salt NaCl 2x2x3 conventional cells (${nacl.numSites} sites)`,
      run: slow(forward([nacl]), SLOWDOWN),
    },
    {
      name: 'megnet-cpu-batch-16',
      what: `PropertyModel.forwardMembers(batchGraphs(graphs)) (CPU MEGNet), one batch of the first 16 bulk built-ins (${small.map((s) => s.numSites).reduce((a, b) => a + b, 0)} sites)`,
      run: slow(forward(small), SLOWDOWN),
    },
  ];
}

// ---------------------------------------------------------------------------

describe('performance tripwire: comparison', () => {
  /** A measurement `wall` and `cpu` times the baseline's ratios (10 and 8). */
  const m = (wall: number, cpu = wall): Measurement => ({
    name: 'synthetic',
    reps: 9,
    ms: 10 * wall * 0.5,
    calibrationMs: 0.5,
    ratio: 10 * wall,
    cpuMs: 8 * cpu * 0.25,
    calibrationCpuMs: 0.25,
    cpuRatio: 8 * cpu,
  });
  const base: Baseline = { what: 'synthetic', ms: 5, calibrationMs: 0.5, ratio: 10, cpuMs: 2, calibrationCpuMs: 0.25, cpuRatio: 8 };

  it('passes at or below 2x the stored ratios and fails above, printing both ratios and the raw ms', () => {
    for (const f of [0.5, 1, 1.5, 1.99, 2]) expect(judge(m(f), base).ok, `${f}x`).toBe(true);
    for (const f of [2.01, 3, 10]) expect(judge(m(f), base).ok, `${f}x`).toBe(false);
    const slow3 = judge(m(3), base);
    expect(slow3.factor).toBeCloseTo(3);
    expect(slow3.message).toContain('3.00x the baseline (limit 2x; min of 9)');
    expect(slow3.message).toContain('wall: ratio 30.00 now (15.00 ms / calibration 0.5000 ms) vs 10.00 stored (5.00 ms / 0.5000 ms) = 3.00x');
    expect(slow3.message).toContain('CPU: ratio 24.00 now (6.00 ms / 0.2500 ms) vs 8.00 stored (2.00 ms / 0.2500 ms) = 3.00x');
    expect(judge(m(1), undefined).ok).toBe(false);
  });

  it('fails only when both clocks say more than 2x (load inflates one of them, a real slowdown both)', () => {
    expect(judge(m(3, 1.2), base).ok).toBe(true);
    expect(judge(m(1.2, 3), base).ok).toBe(true);
    expect(judge(m(2.5, 3), base).ok).toBe(false);
    expect(judge(m(2.5, 3), base).factor).toBeCloseTo(2.5);
  });
});

describe.skipIf(SKIP)('performance tripwire: timed', () => {
  it(
    'the CPU neighbour list is within 2x of its baseline',
    () => {
      const workloads = neighborWorkloads();
      check(workloads, measureForCheck(workloads, { warmup: 3, warmupMs: 100, settle: 5, reps: 10, busyMs: 150, extraMs: 8_000 }));
    },
    TIMEOUT_MS,
  );

  it(
    'a workload run three times inside the timed region trips it',
    () => {
      // Against this run's own 1x ratio, so that it holds on any machine.
      const [once] = neighborWorkloads();
      const thrice: Workload = { ...once, name: `${once.name} x3`, run: slow(once.run, 3) };
      const factor = ([m1, m3]: Measurement[]) => slowdown(m3, m1).factor;
      const [m1, m3] = measure([once, thrice], {
        warmup: 3,
        warmupMs: 50,
        settle: 5,
        reps: 7,
        busyMs: 100,
        unsettled: (ms) => (factor(ms) > THRESHOLD ? [] : [0, 1]),
        extraMs: 5_000,
      });
      const v = judge(m3, { ...m1, what: once.what }, THRESHOLD, 'for 1x in this run');
      console.log(`[perf] self-test: ${v.message}`);
      expect(v.ok, v.message).toBe(false);
      expect(v.factor).toBeGreaterThan(THRESHOLD);
    },
    TIMEOUT_MS,
  );

  it(
    'the CPU MEGNet is within 2x of its baseline',
    () => {
      const workloads = megnetWorkloads();
      check(workloads, measureForCheck(workloads, { warmup: 1, warmupMs: 0, reps: 5, extraMs: 12_000 }));
      expect(Number.isFinite(sink)).toBe(true);
    },
    TIMEOUT_MS,
  );
});
