/**
 * The property model's fast CPU path: the ensemble's trunk on
 * onnxruntime-web's WASM provider (graph/megnet-ort.ts), Set2Set and the
 * readout on the reference code. Same predictions as PropertyModel.predict
 * within float32 rounding (src/tests/properties-ort.test.ts); several times
 * faster on anything but the smallest cells (bench/RESULTS.md).
 */
import type * as OrtModule from 'onnxruntime-web';
import type { GraphBatch } from '../graph/batch';
import { openOrtMegnetTrunk, type OrtMegnetTrunk } from '../graph/megnet-ort';
import type { Structure } from '../structure';
import type { PropertyModel, PropertyPrediction } from './model';

export class OrtPropertyPath {
  private constructor(
    readonly model: PropertyModel,
    private readonly trunk: OrtMegnetTrunk,
  ) {}

  /** `onnx`: the trunk file (megnet-properties-trunk.onnx), refused unless built from `weights` (by default the model's own weight file). */
  static async open(
    ort: typeof OrtModule,
    model: PropertyModel,
    onnx: Uint8Array,
    weights: ArrayBuffer | Uint8Array = model.weights,
  ): Promise<OrtPropertyPath> {
    const trunk = await openOrtMegnetTrunk(ort, onnx, { members: model.members.length, features: model.manifest.shape.features, weights });
    return new OrtPropertyPath(model, trunk);
  }

  async forwardMembers(batch: GraphBatch): Promise<Float64Array[]> {
    return this.model.readoutMembers(batch, await this.trunk.run(batch));
  }

  async predict(structures: readonly Structure[]): Promise<PropertyPrediction[]> {
    if (!structures.length) return [];
    return this.model.summarise(await this.forwardMembers(this.model.batch(structures)), structures);
  }

  release(): Promise<void> {
    return this.trunk.release();
  }
}
