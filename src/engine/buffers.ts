// Small buffer helpers used by the engine and its tests: labelled creation, uploads and one-shot readbacks.

/** The WebGPU usage and map-mode bits (fixed by the spec), so the engine needs no GPU globals at import time
 * (dawn.node provides them only after the device module is set up). */
export const Usage = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
const MAP_MODE_READ = 0x1;

export const STORAGE = Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST;

/** A labelled storage buffer of `bytes` (rounded up to 16, the copy/binding granularity). */
export function createStorage(device: GPUDevice, label: string, bytes: number, usage: number = STORAGE): GPUBuffer {
  return device.createBuffer({ label, size: Math.max(16, Math.ceil(bytes / 16) * 16), usage });
}

export function upload(device: GPUDevice, label: string, data: Float32Array | Int32Array | Uint32Array, usage: number = STORAGE): GPUBuffer {
  const buf = createStorage(device, label, data.byteLength, usage);
  device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
  return buf;
}

/** Copies `bytes` from `buffer` at `offset` to the CPU (a readback: never on the per-step path). */
export async function readBytes(device: GPUDevice, buffer: GPUBuffer, offset = 0, bytes = buffer.size - offset): Promise<ArrayBuffer> {
  const size = Math.ceil(bytes / 4) * 4;
  const staging = device.createBuffer({ label: `${buffer.label}/readback`, size, usage: Usage.MAP_READ | Usage.COPY_DST });
  const enc = device.createCommandEncoder({ label: `${buffer.label}/readback` });
  enc.copyBufferToBuffer(buffer, offset, staging, 0, size);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(MAP_MODE_READ);
  const copy = staging.getMappedRange().slice(0, bytes);
  staging.unmap();
  staging.destroy();
  return copy;
}

export async function readF32(device: GPUDevice, buffer: GPUBuffer, offset = 0, count = (buffer.size - offset) / 4): Promise<Float32Array> {
  return new Float32Array(await readBytes(device, buffer, offset, count * 4));
}
