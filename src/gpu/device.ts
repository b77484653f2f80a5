/**
 * WebGPU device acquisition, shared by every kernel. One device per page;
 * a lost device is reported once and re-acquired on the next request, so a
 * driver reset costs a retry rather than a reload. Callers that get a
 * GpuUnavailable error fall back to the CPU reference and say so.
 */
export class GpuUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuUnavailable';
  }
}

export interface GpuContext {
  device: GPUDevice;
  /** Human-readable adapter description, e.g. "google swiftshader". */
  adapterName: string;
  /** True for software adapters (SwiftShader, llvmpipe): slow submissions, prefer CPU for small work. */
  software: boolean;
}

let current: Promise<GpuContext> | null = null;
/** Devices of software adapters: kernels with a variant for them (dense.wgsl's `direct`) look here. */
export const softwareDevices = new WeakSet<GPUDevice>();
const lostListeners = new Set<(reason: string) => void>();

/** Called with a message whenever the device is lost (driver reset, tab backgrounded too long, ...). */
export function onDeviceLost(listener: (reason: string) => void): () => void {
  lostListeners.add(listener);
  return () => lostListeners.delete(listener);
}

/** A readable adapter name, and whether it is a software renderer (slow submissions: small work is faster on the CPU). */
export function describeAdapter(info: GPUAdapterInfo): { adapterName: string; software: boolean } {
  const adapterName = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unknown adapter';
  const software =
    /swiftshader|llvmpipe|lavapipe|software|microsoft basic/i.test(adapterName) ||
    (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return { adapterName, software };
}

export function getGpu(gpu: GPU | undefined = globalThis.navigator?.gpu): Promise<GpuContext> {
  current ??= acquire(gpu).catch((e: unknown) => {
    current = null;
    throw e;
  });
  return current;
}

async function acquire(gpu: GPU | undefined): Promise<GpuContext> {
  if (!gpu) {
    throw new GpuUnavailable('WebGPU is not available in this browser (navigator.gpu is missing). Use a recent Chrome, Edge or Safari, or the CPU fallback.');
  }
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new GpuUnavailable('WebGPU is present but no GPU adapter was found (blocklisted driver or disabled hardware acceleration).');
  const { adapterName, software } = describeAdapter(adapter.info);
  // Ask for the adapter's storage limits: the neighbour list and graph
  // kernels bind several large buffers at once.
  // Timestamp queries (GPU time per run, GraphRun.gpuMs) where offered.
  const requiredFeatures: GPUFeatureName[] = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
  const device = await adapter.requestDevice({
    requiredFeatures,
    requiredLimits: {
      maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
      maxComputeWorkgroupsPerDimension: adapter.limits.maxComputeWorkgroupsPerDimension,
    },
  });
  void device.lost.then((lost) => {
    current = null;
    const reason = `The GPU device was lost (${lost.reason}: ${lost.message}). The next computation will try to get it back.`;
    for (const l of lostListeners) l(reason);
  });
  if (software) softwareDevices.add(device);
  return { device, adapterName, software };
}
