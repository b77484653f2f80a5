import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { FORMATS, type FormatId, ParseError, readStructures, writeStructures } from '../core/formats/index';
import { elementBySymbol } from '../core/elements';
import { formula, reducedFormula } from '../core/formula';
import type { Structure } from '../core/structure';
import { analyzeSymmetry } from '../core/symmetry';
import { initSymmetryNode } from '../node/moyo';
import { neighborListCpu } from '../core/neighbors/cpu';
import type { EdgeList } from '../core/neighbors/types';
import { getGpu, GpuUnavailable } from '../gpu/device';
import { nodeGpu } from '../node/webgpu';

/**
 * `latticelab`, the command-line face of the DOM-free core. Each command is
 * a function of (args) -> exit code so tests can call it without a process.
 */
const USAGE = `Usage: latticelab <command> [options]

Commands:
  convert IN [--to json|cif|poscar|xyz] [-o OUT] [--index N]
      Read IN (CIF, POSCAR/CONTCAR, extended XYZ or Lattice Lab JSON).
      Without --to: print every structure as JSON (lattice matrix in Å,
      species, fractional coordinates, space group and Wyckoff letters).
      With --to: write the structures in that format to OUT or stdout.
  neighbors FILE --cutoff R [--backend cpu|webgpu] [--index N]
      Periodic neighbour list within R Å as JSON: every directed edge
      (i, j, integer image, vector, distance), sorted by (i, j, image).
      webgpu needs the optional \`webgpu\` package in Node; cpu is the reference.
  predict SPEC|FILE [--model PATH]
      Formation energy per defect site and HOMO-LUMO gap (eV) from the
      sparse-representation MEGNet, as JSON. SPEC is HOST:NxN:EDITS, e.g.
      MoS2:5x5:V@1,W@0 (V@site: vacancy; El@site: substitution; sites index
      the pristine supercell); FILE holds {"spec": ...} or a list of them,
      or is a structure file (CIF, POSCAR, XYZ, JSON) of a defective n x n
      supercell of a host: host, size, vacancies and substitutions are found
      by matching it to the pristine supercell (cell within 2 %, every atom
      within 0.3 Å of a site) and printed with the prediction.
  properties FILE... [--backend wasm|cpu|webgpu] [--model PATH]
      Formation energy (eV/atom), band gap (eV) and energy above hull
      (eV/atom) of every structure in the files (every frame of a
      multi-frame XYZ) from the project's full-graph MEGNet: one JSON line
      per structure with the ensemble's spread and any reason the structure
      lies outside the training data.
  xrd FILE... [--range LO,HI]
      Simulated powder X-ray diffraction pattern (Cu Kα, λ = 1.54184 Å) of
      every structure in the files, by the method of pymatgen's
      XRDCalculator: one JSON line per structure with each peak's 2θ
      (degrees, default range 0,90), intensity (strongest = 100), d (Å)
      and hkl families with multiplicities. Slabs and molecules are
      refused with the reason on stderr (exit code 1).
  sample [--model perov_5|carbon_24|mp20_biternary_pilot|DIR] [--n N] [--seed S] [--steps-per-level K]
         [--target min|max|VALUE|NAME=VALUE] [--target-steps K] [--score auto|wasm-simd|onnx]
         [--format cif|json] [-o OUT]
      Generate N crystals (default 8, seed 1) with a CDVAE trained by the
      project (default model perov_5; see models/cdvae), by annealed
      Langevin dynamics. The score network runs on the project's WASM SIMD
      kernels where the model has their weights (--score auto, default;
      perov_5 and mp20_biternary_pilot), else on onnxruntime-web (WASM),
      which runs the heads. Prints CIF (default) or
      JSON with formula, space group, validity and predicted property.
      --target first moves each latent vector by Adam steps (default
      2,000 at the CDVAE paper's step 0.001; the paper took 5,000) on the
      model's property head:
      towards its lowest or highest value or near VALUE; NAME is the
      model's property (perov_5: heat_ref, carbon_24: energy_per_atom,
      mp20_biternary_pilot: formation_energy_per_atom).
  help
      Show this message.
`;

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

const stdio: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
};

function takeOption(args: string[], ...names: string[]): string | undefined {
  const i = args.findIndex((a) => names.includes(a));
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('-')) throw new UsageError(`${names[0]} needs a value`);
  args.splice(i, 2);
  return v;
}

class UsageError extends Error {}

/** The JSON summary printed by `convert` without --to. */
export function describe(s: Structure, file: string): Record<string, unknown> {
  let spaceGroup: Record<string, unknown> | null = null;
  try {
    const sym = analyzeSymmetry(s);
    spaceGroup = { number: sym.number, symbol: sym.symbol, wyckoffs: sym.wyckoffs, symprec: sym.symprec };
  } catch (e) {
    spaceGroup = { error: (e as Error).message };
  }
  return {
    file,
    title: s.title,
    formula: formula(s.species, s.occupancy),
    reducedFormula: reducedFormula(s.species, s.occupancy),
    numSites: s.numSites,
    lattice: { matrix: s.lattice.matrix, abc: s.lattice.abc, angles: s.lattice.angles, volume: s.lattice.volume },
    pbc: s.pbc,
    species: s.species,
    frac: s.frac,
    ...(s.occupancy ? { occupancy: s.occupancy } : {}),
    spaceGroup,
    ...(s.warnings.length ? { warnings: s.warnings } : {}),
  };
}

/** Reads a file into structures, or reports why not (exit code 1). */
function readInput(file: string, io: Io): Structure[] | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    io.err(`latticelab: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
    return null;
  }
  return readStructures(basename(file), text);
}

/** readInput for commands that take many files: a file that cannot be read or parsed is said in one line and skipped (null). */
function readInputOrSay(file: string, io: Io): Structure[] | null {
  try {
    return readInput(file, io);
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    io.err(`latticelab: ${e.message}\n`);
    return null;
  }
}

function pickIndex(structures: Structure[], index: string | undefined): Structure[] {
  if (index === undefined) return structures;
  const k = Number(index);
  if (!Number.isInteger(k) || k < 0 || k >= structures.length) throw new UsageError(`--index must be 0..${structures.length - 1}`);
  return [structures[k]];
}

async function neighbors(args: string[], io: Io): Promise<number> {
  const cutoffText = takeOption(args, '--cutoff', '-r');
  const backend = takeOption(args, '--backend') ?? 'cpu';
  const index = takeOption(args, '--index');
  if (args.length !== 1) throw new UsageError('neighbors takes exactly one input file');
  const cutoff = Number(cutoffText);
  if (cutoffText === undefined || !(cutoff > 0) || !Number.isFinite(cutoff)) throw new UsageError('--cutoff must be a positive number of Å');
  if (backend !== 'cpu' && backend !== 'webgpu') throw new UsageError('--backend must be cpu or webgpu');
  const read = readInput(args[0], io);
  if (!read) return 1;
  const structures = pickIndex(read, index);
  if (structures.length > 1) throw new UsageError(`${args[0]} holds ${structures.length} structures: pick one with --index N`);
  const s = structures[0];
  const input = { lattice: s.lattice.matrix, pbc: s.pbc, frac: s.frac, cutoff };
  let edges: EdgeList;
  const t0 = performance.now();
  if (backend === 'webgpu') {
    try {
      const gpu = await nodeGpu();
      const { neighborListGpu } = await import('../gpu/neighbors');
      edges = await neighborListGpu(input, await getGpu(gpu));
    } catch (e) {
      if (e instanceof GpuUnavailable) {
        io.err(`latticelab: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
  } else {
    edges = neighborListCpu(input);
  }
  const ms = performance.now() - t0;
  const list = [];
  for (let e = 0; e < edges.count; e++) {
    list.push({
      i: edges.src[e],
      j: edges.dst[e],
      image: [edges.image[3 * e], edges.image[3 * e + 1], edges.image[3 * e + 2]],
      vector: [edges.vec[3 * e], edges.vec[3 * e + 1], edges.vec[3 * e + 2]],
      distance: edges.dist[e],
    });
  }
  io.out(
    JSON.stringify({ file: args[0], numSites: s.numSites, pbc: s.pbc, cutoff, backend, count: edges.count, ms: Number(ms.toFixed(3)), edges: list }) + '\n',
  );
  return 0;
}

async function convert(args: string[], io: Io): Promise<number> {
  const to = takeOption(args, '--to', '-t');
  const outFile = takeOption(args, '-o', '--output');
  const index = takeOption(args, '--index');
  if (args.length !== 1) throw new UsageError('convert takes exactly one input file');
  if (to !== undefined && !FORMATS.includes(to as FormatId)) throw new UsageError(`--to must be one of ${FORMATS.join(', ')}`);
  const file = args[0];
  const read = readInput(file, io);
  if (!read) return 1;
  const structures = pickIndex(read, index);
  for (const s of structures) for (const w of s.warnings) io.err(`latticelab: warning: ${file}: ${w}\n`);
  let output: string;
  if (to === undefined) {
    const described = structures.map((s) => describe(s, file));
    output = JSON.stringify(described.length === 1 ? described[0] : described, null, 2) + '\n';
  } else {
    if (to === 'poscar' && structures.length > 1)
      throw new UsageError(`${file} holds ${structures.length} structures; a POSCAR holds one: pick one with --index N`);
    output = writeStructures(structures, to as FormatId);
  }
  if (outFile) writeFileSync(outFile, output);
  else io.out(output);
  return 0;
}

async function properties(args: string[], io: Io): Promise<number> {
  const backend = takeOption(args, '--backend') ?? 'wasm';
  const modelPath = takeOption(args, '--model', '-m');
  if (backend !== 'cpu' && backend !== 'wasm' && backend !== 'webgpu') throw new UsageError('--backend must be wasm, cpu or webgpu');
  if (!args.length) throw new UsageError('properties needs at least one input file');
  const { loadPropertyModel, openOrtPropertyPath, propertiesRecord, CLI_BATCH } = await import('./properties');
  const model = loadPropertyModel(modelPath);
  let predictBatch = async (batch: Structure[]) => model.predict(batch);
  if (backend === 'wasm') {
    const fast = await openOrtPropertyPath(model, modelPath);
    predictBatch = (batch) => fast.predict(batch);
  }
  if (backend === 'webgpu') {
    try {
      const gpu = await getGpu(await nodeGpu());
      const { GpuPropertyModel } = await import('../gpu/property-model');
      const onGpu = new GpuPropertyModel(model, gpu);
      predictBatch = (batch) => onGpu.predict(batch);
    } catch (e) {
      if (e instanceof GpuUnavailable) {
        io.err(`latticelab: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
  }
  let failed = 0;
  for (const file of args) {
    const read = readInputOrSay(file, io);
    if (!read) {
      failed++;
      continue;
    }
    for (let k = 0; k < read.length; k += CLI_BATCH) {
      const batch = read.slice(k, k + CLI_BATCH);
      const unknown = batch.flatMap((s, i) => s.species.filter((x) => !elementBySymbol(x)).map((x) => `${file}: structure ${k + i}: unknown element ${x}`));
      if (unknown.length) {
        io.err(`latticelab: ${unknown[0]}\n`);
        failed++;
        break;
      }
      const t0 = performance.now();
      const predictions = await predictBatch(batch);
      const ms = (performance.now() - t0) / batch.length;
      predictions.forEach((p, i) => io.out(JSON.stringify(propertiesRecord(file, k + i, batch[i], p, backend, ms)) + '\n'));
    }
  }
  return failed ? 1 : 0;
}

async function xrd(args: string[], io: Io): Promise<number> {
  const rangeText = takeOption(args, '--range');
  if (!args.length) throw new UsageError('xrd needs at least one input file');
  const { parseTwoThetaRange, xrdRecord } = await import('./xrd');
  const { xrdPattern } = await import('../core/xrd/index');
  const range = rangeText === undefined ? ([0, 90] as [number, number]) : parseTwoThetaRange(rangeText);
  if (typeof range === 'string') throw new UsageError(range);
  let failed = 0;
  for (const file of args) {
    const read = readInputOrSay(file, io);
    if (!read) {
      failed++;
      continue;
    }
    read.forEach((s, index) => {
      const t0 = performance.now();
      const r = xrdPattern(s, { twoThetaRange: range });
      const ms = performance.now() - t0;
      if (r.ok) {
        io.out(JSON.stringify(xrdRecord(file, index, s, r.pattern, ms)) + '\n');
      } else {
        io.err(`latticelab: ${file}: structure ${index}: ${r.reason}\n`);
        failed++;
      }
    });
  }
  return failed ? 1 : 0;
}

/** Commands that read structure files: moyo must be loaded first, since a CIF that names its space group without listing the operations is expanded from moyo's tables. */
const READS_FILES = new Set(['convert', 'neighbors', 'neighbours', 'predict', 'properties', 'xrd']);

export async function main(argv: string[], io: Io = stdio): Promise<number> {
  const args = [...argv];
  const command = args.shift();
  try {
    if (command !== undefined && READS_FILES.has(command)) await initSymmetryNode();
    switch (command) {
      case 'convert':
        return await convert(args, io);
      case 'neighbors':
      case 'neighbours':
        return await neighbors(args, io);
      case 'predict': {
        const model = takeOption(args, '--model', '-m');
        if (args.length !== 1) throw new UsageError('predict takes exactly one SPEC or FILE');
        const { predictJson, DEFAULT_MODEL } = await import('./predict');
        const out = predictJson(args[0], model ?? DEFAULT_MODEL);
        io.out(JSON.stringify(out.length === 1 ? out[0] : out, null, 2) + '\n');
        return 0;
      }
      case 'properties':
        return await properties(args, io);
      case 'xrd':
        return await xrd(args, io);
      case 'sample': {
        const model = takeOption(args, '--model', '-m') ?? 'perov_5';
        const n = Number(takeOption(args, '--n', '-n') ?? 8);
        const seed = Number(takeOption(args, '--seed') ?? 1);
        const stepsText = takeOption(args, '--steps-per-level');
        const format = takeOption(args, '--format', '-f') ?? 'cif';
        const outFile = takeOption(args, '-o', '--output');
        const target = takeOption(args, '--target');
        const targetStepsText = takeOption(args, '--target-steps');
        const score = takeOption(args, '--score') ?? 'auto';
        if (args.length) throw new UsageError(`sample takes no positional arguments (got ${args.join(' ')})`);
        if (!Number.isInteger(n) || n < 1 || n > 256) throw new UsageError('--n must be a whole number from 1 to 256');
        if (!Number.isInteger(seed)) throw new UsageError('--seed must be a whole number');
        const stepsPerLevel = stepsText === undefined ? undefined : Number(stepsText);
        if (stepsPerLevel !== undefined && !(Number.isInteger(stepsPerLevel) && stepsPerLevel >= 1 && stepsPerLevel <= 200)) {
          throw new UsageError('--steps-per-level must be a whole number from 1 to 200');
        }
        if (format !== 'cif' && format !== 'json') throw new UsageError('--format must be cif or json');
        if (score !== 'auto' && score !== 'wasm-simd' && score !== 'onnx') throw new UsageError('--score must be auto, wasm-simd or onnx');
        const targetSteps = targetStepsText === undefined ? undefined : Number(targetStepsText);
        if (targetSteps !== undefined && !(Number.isInteger(targetSteps) && targetSteps >= 1 && targetSteps <= 20000)) {
          throw new UsageError('--target-steps must be a whole number from 1 to 20000');
        }
        if (targetSteps !== undefined && target === undefined) throw new UsageError('--target-steps needs --target');
        const { sampleOutput } = await import('./sample');
        const output = await sampleOutput({ model, n, seed, stepsPerLevel, target, targetSteps, score }, format);
        if (outFile) writeFileSync(outFile, output);
        else io.out(output);
        return 0;
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`latticelab: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    if (
      e instanceof ParseError ||
      (e instanceof Error &&
        (e.name === 'PredictInputError' ||
          e.name === 'SampleInputError' ||
          e.name === 'PropertiesInputError' ||
          e.name === 'NeighborListError' ||
          e.name === 'WriteError'))
    ) {
      io.err(`latticelab: ${e.message}\n`);
      return 1;
    }
    // A file the system would not read or write (missing folder, no permission, …).
    const sys = e as NodeJS.ErrnoException;
    if (sys && typeof sys.code === 'string' && typeof sys.path === 'string') {
      io.err(
        `latticelab: ${sys.path}: ${sys.code === 'ENOENT' ? 'no such file or folder' : sys.code === 'EACCES' ? 'permission denied' : sys.code === 'EISDIR' ? 'is a folder' : sys.code}\n`,
      );
      return 1;
    }
    // Anything else is a bug; still one line, never a stack trace (LATTICELAB_DEBUG=1 shows it).
    if (process.env.LATTICELAB_DEBUG) throw e;
    io.err(
      `latticelab: ${command ?? ''}: internal error: ${e instanceof Error ? e.message.split('\n')[0] : String(e)} (run with LATTICELAB_DEBUG=1 for details)\n`,
    );
    return 1;
  }
}
