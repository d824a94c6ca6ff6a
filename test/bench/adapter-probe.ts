// Prints what the Node WebGPU adapter offers (features, key limits) under each set of Dawn toggles given, one JSON line
// each: e.g. whether `shader-f16` appears on NVIDIA's Vulkan driver only with Dawn's vulkan_enable_f16_on_nvidia.
//   node adapter-probe.mjs "" "vulkan_enable_f16_on_nvidia" "allow_unsafe_apis,vulkan_enable_f16_on_nvidia"
import { create, globals } from 'webgpu';

Object.assign(globalThis, globals);
const keep: GPU[] = []; // dawn.node instances must outlive their adapters (src/cli/node-gpu.ts)
for (const set of process.argv.slice(2).length ? process.argv.slice(2) : ['']) {
  const toggles = set ? [`enable-dawn-features=${set}`] : [];
  const gpu = create(toggles);
  keep.push(gpu);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  console.log(JSON.stringify(adapter ? {
    toggles: set, adapter: adapter.info.description || adapter.info.vendor, architecture: adapter.info.architecture, features: [...adapter.features].sort(),
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
  } : { toggles: set, adapter: null }));
}
process.exit(0);
