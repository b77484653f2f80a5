/**
 * The GPU lab page: a thin bridge that lets Playwright (tests and the
 * benchmark) call the WebGPU kernels with inputs made in Node and get plain
 * JSON-able results back. Each kernel family registers its functions in its
 * own module; nothing here is used by the app itself.
 */
import { getGpu } from '../gpu/device';
import { kernelsLab } from './kernels-lab';
import { megnetLab } from './megnet-lab';
import { neighborsLab } from './neighbors-lab';
import { onnxLab } from './onnx-lab';
import { primitivesLab } from './primitives-lab';
import { propertiesLab } from './properties-lab';
import { propertyParityLab } from './property-parity-lab';

const lab = {
  async info(): Promise<{ adapter: string; software: boolean } | { error: string }> {
    try {
      const { adapterName, software } = await getGpu();
      return { adapter: adapterName, software };
    } catch (e) {
      return { error: (e as Error).message };
    }
  },
  ...kernelsLab,
  ...neighborsLab,
  ...megnetLab,
  ...onnxLab,
  ...primitivesLab,
  ...propertiesLab,
  ...propertyParityLab,
};

declare global {
  interface Window {
    gpuLab: typeof lab;
  }
}

window.gpuLab = lab;
const info = await lab.info();
document.getElementById('status')!.textContent = JSON.stringify(info, null, 2);
document.body.dataset.ready = 'true';
