// The one module that talks to dawn.node (the `webgpu` package): WebGPU for the engine in Node.
import { existsSync } from 'node:fs';
import { create, globals } from 'webgpu';
import { requestEngineDevice, type EngineDevice } from '../engine/device.ts';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
let installed = false;
/** dawn.node's GPU instances must outlive their devices: a collected instance takes its devices' threads down
 * with it (seen as a native crash, "futex facility returned an unexpected error code", after a GC). */
const liveInstances: GPU[] = [];

/**
 * Opens an engine device through Dawn. Dawn toggles pass through (e.g. 'enable-dawn-features=allow_unsafe_apis').
 * With TUNELAB_SWIFTSHADER=1 (tests, CI) and no Vulkan ICD chosen, Chromium's SwiftShader ICD is used.
 */
export async function openNodeDevice(toggles: string[] = []): Promise<EngineDevice> {
  if (process.env.TUNELAB_SWIFTSHADER === '1' && !process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  if (!installed) {
    // The WebGPU constants (GPUBufferUsage, ...) are globals in a browser; dawn.node exports them.
    Object.assign(globalThis, globals);
    installed = true;
  }
  // TUNELAB_DAWN_TOGGLES=a,b adds Dawn features, e.g. vulkan_enable_f16_on_nvidia: NVIDIA's Vulkan driver offers
  // shader-f16 (native 16-bit storage, lib/half-f16.wgsl) only with it.
  const extra = (process.env.TUNELAB_DAWN_TOGGLES ?? '').split(',').filter(Boolean).map((t) => `enable-dawn-features=${t}`);
  const gpu = create([...toggles, ...extra]);
  liveInstances.push(gpu);
  return requestEngineDevice(gpu);
}
