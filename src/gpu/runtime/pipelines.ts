/**
 * Compute pipelines for every kernel in shaders/ (graph primitives, neighbour list, scan), compiled once per device and
 * cached (WeakMap, so a lost device's pipelines go with it). Every kernel
 * uses bind group 0 with the parameters at binding 0 (uniform) and its
 * buffers at bindings 1.. in the order the shader declares them. Workgroup
 * sizes are set here, from workgroup.ts, for every shader that declares
 * `override WG`.
 */
import add from '../../../shaders/add.wgsl?raw';
import dense from '../../../shaders/dense.wgsl?raw';
import fmaPeak from '../../../shaders/fma_peak.wgsl?raw';
import gather from '../../../shaders/gather.wgsl?raw';
import lstm from '../../../shaders/lstm.wgsl?raw';
import neighbors from '../../../shaders/neighbors.wgsl?raw';
import rbf from '../../../shaders/rbf.wgsl?raw';
import rowdot from '../../../shaders/rowdot.wgsl?raw';
import scan from '../../../shaders/scan.wgsl?raw';
import segmentReduce from '../../../shaders/segment_reduce.wgsl?raw';
import segmentSoftmax from '../../../shaders/segment_softmax.wgsl?raw';

import { workgroupSize } from './workgroup';

const SOURCES = { add, dense, fmaPeak, gather, lstm, neighbors, rbf, rowdot, scan, segmentReduce, segmentSoftmax } as const;

export type ShaderName = keyof typeof SOURCES;

interface DeviceCache {
  modules: Map<ShaderName, GPUShaderModule>;
  pipelines: Map<string, GPUComputePipeline>;
}

const caches = new WeakMap<GPUDevice, DeviceCache>();

function cacheFor(device: GPUDevice): DeviceCache {
  let c = caches.get(device);
  if (!c) {
    c = { modules: new Map(), pipelines: new Map() };
    caches.set(device, c);
  }
  return c;
}

/** Shaders that declare `override WG` get their workgroup size from workgroup.ts. */
const TAKES_WG = new Set((Object.keys(SOURCES) as ShaderName[]).filter((k) => /\boverride\s+WG\b/.test(SOURCES[k])));

export function pipeline(device: GPUDevice, shader: ShaderName, entryPoint = 'main', overrides: Record<string, number> = {}): GPUComputePipeline {
  const constants = TAKES_WG.has(shader) ? { WG: workgroupSize(shader), ...overrides } : overrides;
  const cache = cacheFor(device);
  const key = `${shader}:${entryPoint}:${JSON.stringify(constants)}`;
  let p = cache.pipelines.get(key);
  if (!p) {
    let module = cache.modules.get(shader);
    if (!module) {
      module = device.createShaderModule({ code: SOURCES[shader], label: shader });
      cache.modules.set(shader, module);
    }
    p = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint, constants }, label: key });
    cache.pipelines.set(key, p);
  }
  return p;
}
