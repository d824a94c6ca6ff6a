// CPU binary16 for tests and GPU checks of the 16-bit path: the rounding the kernels' lib/half.wgsl performs, packing
// as the engine stores 16-bit buffers (element i in the low half of word i/2 when i is even), reading them back, and
// the check of the GEMMs' 16-bit weight copy (params16).
import { readBytes } from '../../src/engine/buffers.ts';
import { halfToFloat } from '../../src/engine/model/safetensors.ts';

/** IEEE binary16 bits of x, rounded to nearest even; beyond +-65504 -> +-inf as lib/half.wgsl's half_bits. */
export function halfBits(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (Number.isNaN(a)) return 0x7e00;
  if (a > 65504) return sign | 0x7c00;
  let e = Math.max(-14, Math.floor(Math.log2(a))); // binade; -14 also for zero and subnormals
  if (e > -14 && 2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++; // guards log2 rounding at binade edges
  const q = a / 2 ** (e - 10); // in units of the last place: exact
  const f = Math.floor(q), d = q - f;
  const m = d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
  // Normal: exponent e + 15, mantissa m - 1024 (a carry to 2048 moves into the exponent); subnormal: m itself.
  return sign | (e === -14 && m < 1024 ? m : ((e + 15) << 10) + (m - 1024));
}

export const roundHalf = (x: Float32Array): Float32Array => x.map((v) => halfToFloat(halfBits(v)));

export function packHalf(x: Float32Array): Uint32Array {
  const out = new Uint32Array(Math.ceil(x.length / 2));
  x.forEach((v, i) => { out[i >> 1] = (out[i >> 1] ?? 0) | (halfBits(v) << (16 * (i & 1))); });
  return out;
}

/** The first `count` elements of a packed 16-bit buffer, widened (one readback). */
export async function readHalf(device: GPUDevice, buffer: GPUBuffer, count: number): Promise<Float32Array> {
  const words = new Uint32Array(await readBytes(device, buffer, 0, Math.ceil(count / 2) * 4));
  return Float32Array.from({ length: count }, (_, i) => halfToFloat((words[i >> 1]! >>> (16 * (i & 1))) & 0xffff));
}

/** Elements of a model's params16 that are not the binary16 rounding of `arena`, described (one readback). */
export async function params16Mismatches(model: { device: GPUDevice; params16?: GPUBuffer | undefined }, arena: Float32Array): Promise<string[]> {
  if (!model.params16) throw new Error('params16Mismatches: the model has no 16-bit weight copy (fp32 instance)');
  const words = new Uint32Array(await readBytes(model.device, model.params16, 0, arena.length * 2));
  const bad: string[] = [];
  arena.forEach((v, i) => {
    const got = (words[i >> 1]! >>> (16 * (i & 1))) & 0xffff;
    if (got !== halfBits(v)) bad.push(`[${i}] ${v}: 0x${got.toString(16)} want 0x${halfBits(v).toString(16)}`);
  });
  return bad;
}
