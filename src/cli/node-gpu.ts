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
  const gpu = create(toggles);
  liveInstances.push(gpu);
  return requestEngineDevice(gpu);
}
