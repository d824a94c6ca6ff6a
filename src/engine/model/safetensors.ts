// safetensors reader/writer (https://github.com/huggingface/safetensors): 8-byte little-endian header length,
// a JSON header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {...}}, then the raw bytes.
// Every tensor is returned as fp32 (F16/BF16 widened) or as int32 for the integer dtypes.

export type SafeDType = 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'U8' | 'I8' | 'BOOL' | 'F64';

export interface SafeTensor {
  dtype: SafeDType;
  shape: number[];
  /** Float dtypes as Float32Array; integer dtypes as Int32Array (I64 values must fit in 32 bits). */
  data: Float32Array | Int32Array;
}

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

interface HeaderEntry {
  dtype: SafeDType;
  shape: number[];
  data_offsets: [number, number];
}

const BYTES: Record<SafeDType, number> = { F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, U8: 1, I8: 1, BOOL: 1, F64: 8 };

export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Parses a whole safetensors file. `source` names the file in error messages. */
export function readSafetensors(bytes: Uint8Array, source = 'model.safetensors'): Map<string, SafeTensor> {
  if (bytes.byteLength < 8) throw new SafetensorsError(`${source}: ${bytes.byteLength} bytes, too short for a safetensors header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > bytes.byteLength - 8) throw new SafetensorsError(`${source}: header length ${headerLen} exceeds the file size ${bytes.byteLength}`);
  let header: Record<string, HeaderEntry | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as typeof header;
  } catch (e) {
    throw new SafetensorsError(`${source}: the header is not valid JSON (${(e as Error).message})`);
  }
  const dataStart = 8 + headerLen;
  const out = new Map<string, SafeTensor>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const entry = raw as HeaderEntry;
    const width = BYTES[entry.dtype];
    if (width === undefined) throw new SafetensorsError(`${source}: tensor ${name} has unsupported dtype ${String(entry.dtype)}`);
    const count = entry.shape.reduce((a, b) => a * b, 1);
    const [begin, end] = entry.data_offsets;
    if (end - begin !== count * width || dataStart + end > bytes.byteLength) {
      throw new SafetensorsError(`${source}: tensor ${name} (${entry.dtype} ${JSON.stringify(entry.shape)}) has data_offsets [${begin}, ${end}] that do not match its shape or the file size`);
    }
    // A copy (aligned, independent of the file buffer); Uint8Array.prototype.slice because Node Buffer.slice is a view.
    const buf = Uint8Array.prototype.slice.call(bytes, dataStart + begin, dataStart + end);
    const dv = new DataView(buf.buffer);
    let data: Float32Array | Int32Array;
    switch (entry.dtype) {
      case 'F32': data = new Float32Array(buf.buffer); break;
      case 'F64': data = Float32Array.from(new Float64Array(buf.buffer)); break;
      case 'F16': data = new Float32Array(count); for (let i = 0; i < count; i++) data[i] = halfToFloat(dv.getUint16(2 * i, true)); break;
      case 'BF16': {
        const bits = new Uint32Array(count); // bf16 is the top half of an fp32
        for (let i = 0; i < count; i++) bits[i] = dv.getUint16(2 * i, true) << 16;
        data = new Float32Array(bits.buffer);
        break;
      }
      case 'I64': data = new Int32Array(count); for (let i = 0; i < count; i++) data[i] = Number(dv.getBigInt64(8 * i, true)); break;
      case 'I32': data = new Int32Array(buf.buffer); break;
      case 'U8': case 'BOOL': data = Int32Array.from(buf); break;
      case 'I8': data = Int32Array.from(new Int8Array(buf.buffer)); break;
    }
    out.set(name, { dtype: entry.dtype, shape: entry.shape, data });
  }
  return out;
}

/** Writes fp32 tensors (names sorted, as the Python library does) with optional string metadata. */
export function writeSafetensors(tensors: Map<string, { shape: number[]; data: Float32Array }>, metadata: Record<string, string> = { format: 'pt' }): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const len = t.data.length * 4;
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + len] };
    offset += len;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((json.length + 8) % 8)) % 8); // keep the data 8-byte aligned
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let p = 8 + headerBytes.length;
  for (const name of names) {
    const t = tensors.get(name)!;
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), p);
    p += t.data.byteLength;
  }
  return out;
}
