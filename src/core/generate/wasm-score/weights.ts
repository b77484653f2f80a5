/**
 * The radial score network's weights (`score_weights.bin`, written by
 * models/cdvae/score_weights.py, which documents the layout): a JSON header
 * naming each tensor's offset and shape, then float32 data. Matrices are
 * stored (in, out), the layout the WASM kernels read.
 */
export const SCORE_WEIGHTS_FORMAT = 'latticelab-cdvae-score-weights/1';

export interface ScoreWeightsHeader {
  format: string;
  hidden: number;
  latent: number;
  rbf: number;
  cutoff: number;
  vocab_size: number;
  layers: number;
  msg_scale: number;
  layer_norm_eps: number;
  rbf_width: number;
  tensors: Record<string, [number, number[]]>;
}

export interface ScoreWeights {
  header: ScoreWeightsHeader;
  /** The named tensor, checked against the shape the caller expects. */
  get(name: string, shape: number[]): Float32Array;
}

export function parseScoreWeights(bytes: Uint8Array): ScoreWeights {
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (bytes.length < 8 || magic !== 'LLSW') throw new Error('score weights: not a latticelab score-weights file');
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  if (8 + n > bytes.length) throw new Error('score weights: the header runs past the end of the file');
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as ScoreWeightsHeader;
  if (header.format !== SCORE_WEIGHTS_FORMAT) throw new Error(`score weights: format ${JSON.stringify(header.format)}; this app reads ${SCORE_WEIGHTS_FORMAT}`);
  // Copied so the floats are aligned whatever the buffer's offset (and a
  // copy, not a view: Node's Buffer.slice shares its pool's memory).
  const data = new Float32Array(new Uint8Array(bytes.subarray(8 + n)).buffer);
  return {
    header,
    get(name, shape) {
      const entry = header.tensors[name];
      if (!entry) throw new Error(`score weights: no tensor ${name}`);
      const [offset, have] = entry;
      if (have.length !== shape.length || have.some((d, i) => d !== shape[i])) {
        throw new Error(`score weights: ${name} has shape [${have.join(', ')}], expected [${shape.join(', ')}]`);
      }
      const size = shape.reduce((a, b) => a * b, 1);
      if (offset + size > data.length) throw new Error(`score weights: ${name} runs past the end of the file`);
      return data.subarray(offset, offset + size);
    },
  };
}
