/**
 * The `metadata_props` of an ONNX model file (ModelProto field 14, a list
 * of key/value strings), read straight from the protobuf bytes: the runtime
 * does not expose them, and the app checks with them that an ONNX file
 * belongs to the weights beside it. Only the top level is walked; every
 * other field is skipped by its wire type.
 */

const METADATA_PROPS = 14;

class Reader {
  at = 0;
  constructor(readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.at >= this.bytes.length;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (this.at >= this.bytes.length) throw new RangeError('ONNX file: truncated varint');
      const b = this.bytes[this.at++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
      if (scale > 2 ** 63) throw new RangeError('ONNX file: varint too long');
    }
  }

  /** The bytes of a length-delimited field. */
  chunk(): Uint8Array {
    const n = this.varint();
    if (this.at + n > this.bytes.length) throw new RangeError('ONNX file: a field runs past the end');
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.at += 8;
    else if (wireType === 2) this.chunk();
    else if (wireType === 5) this.at += 4;
    else throw new RangeError(`ONNX file: unsupported protobuf wire type ${wireType}`);
  }
}

export function onnxMetadata(bytes: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const top = new Reader(bytes);
  const text = new TextDecoder();
  while (!top.done) {
    const tag = top.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field !== METADATA_PROPS || wire !== 2) {
      top.skip(wire);
      continue;
    }
    const entry = new Reader(top.chunk());
    let key = '';
    let value = '';
    while (!entry.done) {
      const t = entry.varint();
      if (t === (1 << 3) + 2) key = text.decode(entry.chunk());
      else if (t === (2 << 3) + 2) value = text.decode(entry.chunk());
      else entry.skip(t % 8);
    }
    out[key] = value;
  }
  return out;
}

/** Lower-case hex SHA-256 (Web Crypto: browsers, workers and Node ≥ 20). */
export async function sha256Hex(data: ArrayBuffer | Uint8Array): Promise<string> {
  const view = data instanceof Uint8Array ? data : new Uint8Array(data);
  const digest = await crypto.subtle.digest('SHA-256', view as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
