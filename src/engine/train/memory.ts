// Memory planning before a trial: the bytes a configuration needs (parameters, their 16-bit copy under fp16, gradients,
// AdamW moments, activations per micro-batch) against the device's limits and an optional budget. When the batch does
// not fit, it is split into micro-batches with gradient accumulation (the same effective batch, the same result).
import type { EncoderConfig } from '../model/config.ts';
import { activationBuffers, type Precision } from '../model/encoder.ts';
import type { ModelParams } from '../model/params.ts';

export interface DeviceMemoryLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

export interface MemoryPlan {
  micro: number;
  accumulation: number;
  /** params: the fp32 arena; params16: its binary16 copy read by the GEMMs under fp16 (0 in fp32). */
  bytes: { params: number; params16: number; grads: number; optimizer: number; activations: number; total: number };
  /** The largest single buffer that is bound whole. */
  largestBinding: number;
  fits: boolean;
  /** Why a micro-batch size was rejected, for the record (empty when the full batch fits). */
  backoffs: string[];
}

export function trialBytes(config: EncoderConfig, params: ModelParams, micro: number, seqLen: number, training: boolean, precision: Precision = 'fp32'): MemoryPlan['bytes'] & { largestBinding: number } {
  const arena = params.layout.size * 4;
  const acts = activationBuffers(config, { batch: micro, seqLen }, training, precision);
  const activations = acts.reduce((n, b) => n + b.bytes, 0);
  let largestBlock = 0;
  for (const b of params.layout.blocks.values()) largestBlock = Math.max(largestBlock, b.count * 4);
  const grads = training ? arena : 0;
  const optimizer = training ? 2 * arena : 0;
  const params16 = precision === 'fp16' ? arena / 2 : 0; // EncoderClassifier.params16
  return { params: arena, params16, grads, optimizer, activations, total: arena + params16 + grads + optimizer + activations, largestBinding: Math.max(largestBlock, ...acts.map((b) => b.bytes)) };
}

/** Halves the micro-batch until the trial fits (or micro = 1 does not, then fits = false). */
export function planMemory(config: EncoderConfig, params: ModelParams, batchSize: number, seqLen: number, limits: DeviceMemoryLimits, budgetBytes?: number, startMicro = batchSize, precision: Precision = 'fp32'): MemoryPlan {
  const backoffs: string[] = [];
  let micro = Math.min(startMicro, batchSize);
  for (;;) {
    const b = trialBytes(config, params, micro, seqLen, true, precision);
    const problems: string[] = [];
    if (b.params > limits.maxBufferSize) problems.push(`the parameter arena (${b.params} B) exceeds maxBufferSize ${limits.maxBufferSize}`);
    if (b.largestBinding > limits.maxStorageBufferBindingSize) problems.push(`a ${b.largestBinding} B buffer exceeds maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize}`);
    if (budgetBytes !== undefined && b.total > budgetBytes) problems.push(`${b.total} B exceed the memory budget ${budgetBytes} B`);
    const { largestBinding, ...bytes } = b;
    if (problems.length === 0 || micro === 1) {
      return { micro, accumulation: Math.ceil(batchSize / micro), bytes, largestBinding, fits: problems.length === 0, backoffs: problems.length ? [...backoffs, `micro-batch ${micro}: ${problems.join('; ')}`] : backoffs };
    }
    backoffs.push(`micro-batch ${micro}: ${problems.join('; ')}`);
    micro = Math.ceil(micro / 2);
  }
}
