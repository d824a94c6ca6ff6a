// Opens the GPUDevice the engine trains on: the adapter's maximum limits, the optional features we can use,
// uncaptured errors and device loss surfaced to the caller instead of the console.

export interface EngineDevice {
  readonly device: GPUDevice;
  readonly adapterInfo: { vendor: string; architecture: string; device: string; description: string };
  readonly features: ReadonlySet<string>;
  /** Resolves when the device is lost (destroyed by us, or by the driver: then `reason` is 'unknown'). */
  readonly lost: Promise<GPUDeviceLostInfo>;
}

/** Features the engine uses when offered and never requires (DESIGN.md, decision 2). */
const OPTIONAL_FEATURES: GPUFeatureName[] = ['shader-f16', 'timestamp-query', 'subgroups'];

/** Limits we ask at their adapter maximum: the big buffers and bindings a BERT-sized model needs. */
const MAX_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
] as const;

export class NoWebGPUError extends Error {
  override name = 'NoWebGPUError';
}

export async function requestEngineDevice(gpu: GPU | undefined, options: { powerPreference?: GPUPowerPreference } = {}): Promise<EngineDevice> {
  if (!gpu) throw new NoWebGPUError('WebGPU is not available here (navigator.gpu is missing): use a browser with WebGPU enabled, or the tunelab command with a Vulkan driver.');
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  if (!adapter) throw new NoWebGPUError('No WebGPU adapter was found: the GPU may be blocked, or no Vulkan/Metal/D3D12 driver is installed.');
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
  const requiredLimits: Record<string, number> = {};
  for (const name of MAX_LIMITS) requiredLimits[name] = adapter.limits[name];
  const device = await adapter.requestDevice({ label: 'tunelab-engine', requiredFeatures, requiredLimits });
  const info = adapter.info;
  return {
    device,
    adapterInfo: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description },
    features: new Set([...device.features]),
    lost: device.lost,
  };
}
