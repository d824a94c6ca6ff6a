// Training steps on one EncoderClassifier: each optimizer step is one command encoder and one submit (the micro-batches'
// forward/backward with gradient accumulation, then norm, clipping and AdamW on the GPU). Step metrics land in a GPU
// ring read back every few steps, never per step (DESIGN.md decision 4). Under fp16 the step ends by refreshing the
// model's 16-bit weight copy (params16) from the updated fp32 weights.
import { createStorage, readBytes, Usage } from '../buffers.ts';
import { Program, whole, type ShaderSource } from '../kernels/kernel.ts';
import optimizerSrc from '../kernels/optimizer/optimizer.wgsl?raw';
import { EncoderClassifier, METRIC_FIELDS, METRICS_SLOTS, optStateWords } from '../model/encoder.ts';
import { writeRecord, type TokenBatch } from '../model/inputs.ts';
import { mix32 } from '../random.ts';
import { lossScaleFor, type LossScaleConfig } from './precision.ts';

const optimizerShader: ShaderSource = { name: 'optimizer', code: optimizerSrc, libraries: ['half'] };
/** Most workgroups of the grid-stride optimizer kernels per chunk (enough to fill a large GPU); also the number of
 * norm partial slots each chunk owns. */
const MAX_GRID = 1024;
/** Workgroups per chunk: at least 64 elements per thread (a workgroup is costly where barriers are emulated, as on
 * SwiftShader), at most MAX_GRID. */
const gridFor = (count: number): number => Math.max(1, Math.min(MAX_GRID, Math.ceil(count / (256 * 64))));

export interface TrainHyper {
  lr: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  maxGradNorm: number;
  warmupSteps: number;
  totalSteps: number;
  /** Dynamic loss scaling under fp16 (GradScaler defaults); ignored in fp32 (scale 1). */
  lossScale?: Partial<LossScaleConfig>;
}

export const DEFAULT_HYPER: Omit<TrainHyper, 'lr' | 'warmupSteps' | 'totalSteps'> = { weightDecay: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 1 };

export interface StepRecord {
  /** 0-based index of the submitted step. */
  step: number;
  loss: number;
  accuracy: number;
  rows: number;
  gradNorm: number;
  lr: number;
  /** Optimizer steps taken so far (skipped steps do not count). */
  optimizerSteps: number;
  skipped: boolean;
  lossScale: number;
}

export interface EvalResult {
  loss: number;
  accuracy: number;
  rows: number;
}

export class Trainer {
  private readonly staging: GPUBuffer;
  private readonly stagingHost: ArrayBuffer;
  private readonly stepConfig: GPUBuffer;
  private readonly optState: GPUBuffer;
  private readonly scaling: LossScaleConfig & { dynamic: boolean };
  private readonly moments: [GPUBuffer, GPUBuffer];
  private readonly partials: GPUBuffer;
  private readonly optimizer = new Program('optimizer');
  /** fp32 params -> the model's params16 (fp16 only; empty in fp32). */
  private readonly syncHalfWeights = new Program('sync-half-weights');
  private readonly partialCount: number;
  private submitted = 0;
  private read = 0;
  private readonly pending: StepRecord[] = [];

  constructor(
    readonly model: EncoderClassifier,
    readonly hyper: TrainHyper,
    /** Micro-batches per optimizer step (gradient accumulation). */
    readonly accumulation: number,
    readonly seed: number,
  ) {
    const device = model.device, label = 'trainer';
    this.staging = createStorage(device, `${label}/staging`, model.record.bytes * accumulation, Usage.COPY_SRC | Usage.COPY_DST);
    this.stagingHost = new ArrayBuffer(model.record.bytes * accumulation);
    this.stepConfig = device.createBuffer({ label: `${label}/step-config`, size: 64, usage: Usage.UNIFORM | Usage.COPY_DST });
    this.optState = model.optState;
    this.scaling = lossScaleFor(model.precision, hyper.lossScale);
    device.queue.writeBuffer(this.optState, 0, optStateWords(this.scaling.init));
    const arenaBytes = model.layout.size * 4;
    this.moments = [createStorage(device, `${label}/adam-m`, arenaBytes), createStorage(device, `${label}/adam-v`, arenaBytes)];
    // Floats per chunk of the arena kernels: a binding of at most maxStorageBufferBindingSize, and a multiple of 128 so
    // that chunk offsets in params16 (2 bytes a float) stay 256-byte aligned (the limit need not be a power of two:
    // 2^31 - 4 under Dawn on NVIDIA).
    const chunk = Math.floor(device.limits.maxStorageBufferBindingSize / 4 / 128) * 128;
    const chunks = Math.ceil(model.layout.size / chunk);
    this.partialCount = chunks * MAX_GRID; // unused partial slots stay 0
    this.partials = createStorage(device, `${label}/norm-partials`, this.partialCount * 4);
    if (model.grads) this.recordOptimizer(chunk, chunks); // an inference instance only evaluates and predicts
    if (model.params16) this.recordSyncHalfWeights(model.params16, chunk, chunks); // inference instances too
    model.ctx.finalize();
  }

  private get layoutSize(): number {
    return this.model.layout.size;
  }

  private recordOptimizer(chunk: number, chunks: number): void {
    const { ctx } = this.model;
    const grads = this.model.grads!;
    const range = (buffer: GPUBuffer, i: number) => {
      const count = Math.min(chunk, this.layoutSize - i * chunk);
      return { buffer, offset: i * chunk * 4, size: count * 4 };
    };
    for (let i = 0; i < chunks; i++) {
      const count = Math.min(chunk, this.layoutSize - i * chunk);
      this.optimizer.dispatch(ctx.dispatch(`grad-sumsq[${i}]`, ctx.pipeline(optimizerShader, 'sumsq_partial'), { words: [i * chunk, count, i * MAX_GRID, gridFor(count)] },
        [undefined, range(grads, i), whole(this.partials)], [gridFor(count), 1, 1]));
    }
    this.optimizer.dispatch(ctx.dispatch('optimizer-finalize', ctx.pipeline(optimizerShader, 'finalize'), undefined,
      [whole(this.stepConfig), undefined, whole(this.partials), whole(this.optState), undefined, undefined, undefined, whole(this.model.metrics)], [1, 1, 1]));
    for (let i = 0; i < chunks; i++) {
      const count = Math.min(chunk, this.layoutSize - i * chunk);
      this.optimizer.dispatch(ctx.dispatch(`adamw[${i}]`, ctx.pipeline(optimizerShader, 'adamw'), { words: [i * chunk, count, 0, gridFor(count)] },
        [whole(this.stepConfig), range(grads, i), undefined, whole(this.optState), range(this.model.params, i), range(this.moments[0], i), range(this.moments[1], i)], [gridFor(count), 1, 1]));
    }
  }

  /** to_half over the arena, chunked as the AdamW dispatches (the params16 range of a chunk is half its bytes). */
  private recordSyncHalfWeights(params16: GPUBuffer, chunk: number, chunks: number): void {
    const { ctx } = this.model;
    for (let i = 0; i < chunks; i++) {
      const count = Math.min(chunk, this.layoutSize - i * chunk); // even (see to_half)
      const grid = gridFor(count / 2); // one thread iteration per element pair
      this.syncHalfWeights.dispatch(ctx.dispatch(`params-fp16[${i}]`, ctx.pipeline(optimizerShader, 'to_half'), { words: [i * chunk, count, 0, grid] },
        [undefined, undefined, undefined, undefined, { buffer: this.model.params, offset: i * chunk * 4, size: count * 4 }, undefined, undefined, undefined,
          { buffer: params16, offset: i * chunk * 2, size: count * 2 }], [grid, 1, 1]));
    }
  }

  /**
   * Makes the trainer as new without reallocating anything (a buffer reused between runs): the optimizer state and loss
   * scale, the AdamW moments, the gradients and the metrics ring are zeroed, the step counters restart; then `arena`
   * is uploaded.
   */
  reset(arena: Float32Array): void {
    const device = this.model.device;
    device.queue.writeBuffer(this.optState, 0, optStateWords(this.scaling.init));
    const prog = new Program('trainer-reset');
    for (const b of [this.moments[0], this.moments[1], this.model.metrics, ...(this.model.grads ? [this.model.grads] : [])]) prog.clear(whole(b));
    this.submit(prog);
    this.submitted = 0;
    this.read = 0;
    this.pending.length = 0;
    this.setWeights(arena);
  }

  /** Uploads the whole parameter arena (fp32, the layout of model.layout), and under fp16 its 16-bit copy. */
  setWeights(arena: Float32Array): void {
    if (arena.length !== this.layoutSize) throw new Error(`setWeights: ${arena.length} floats, the arena holds ${this.layoutSize}`);
    this.model.device.queue.writeBuffer(this.model.params, 0, arena.buffer, arena.byteOffset, arena.byteLength);
    if (this.syncHalfWeights.steps.length > 0) this.submit(this.syncHalfWeights); // queue order: after the upload
  }

  private writeStepConfig(slot: number): void {
    const h = this.hyper;
    const sc = this.scaling;
    const buf = new ArrayBuffer(64);
    const f = new Float32Array(buf), u = new Uint32Array(buf);
    f[0] = h.lr; u[1] = h.warmupSteps; u[2] = h.totalSteps; u[3] = slot;
    f[4] = h.beta1; f[5] = h.beta2; f[6] = h.eps; f[7] = h.weightDecay;
    f[8] = h.maxGradNorm; u[9] = this.partialCount; u[10] = this.model.layout.decayCount; u[11] = sc.dynamic ? 1 : 0;
    u[12] = sc.growthInterval; f[13] = sc.growthFactor; f[14] = sc.backoffFactor; u[15] = 0;
    this.model.device.queue.writeBuffer(this.stepConfig, 0, buf);
  }

  private stageMicroBatches(micros: TokenBatch[], training: boolean, slot: number, stepIndex: number): void {
    if (micros.length > this.accumulation) throw new Error(`${micros.length} micro-batches, the trainer was built for ${this.accumulation}`);
    const realRows = micros.reduce((n, b) => n + b.labels.filter((l) => l !== 0xffffffff).length, 0);
    micros.forEach((b, k) => {
      const seed = mix32(mix32(this.seed ^ 0x5bd1e995) + mix32(stepIndex * 64 + k));
      writeRecord(this.stagingHost, k * this.model.record.bytes, this.model.record, b, { seed, training, invBatch: realRows > 0 ? 1 / realRows : 0, slot }, training);
    });
    this.model.device.queue.writeBuffer(this.staging, 0, this.stagingHost, 0, micros.length * this.model.record.bytes);
  }

  private encodeForwardBackward(prog: Program, micros: TokenBatch[]): void {
    micros.forEach((_, k) => {
      this.model.copyInputs(prog, this.staging, k * this.model.record.bytes);
      prog.append(this.model.forward);
      prog.append(this.model.backward);
    });
  }

  /**
   * One optimizer step over `micros` (one micro-batch each, same effective batch): one submit. Resolves at once unless
   * the metrics ring is full, in which case it first reads the ring back.
   */
  async step(micros: TokenBatch[]): Promise<void> {
    if (!this.model.grads) throw new Error('Trainer.step: the model instance was created without gradients');
    if (this.submitted - this.read >= METRICS_SLOTS) await this.collect();
    const slot = this.submitted % METRICS_SLOTS;
    this.stageMicroBatches(micros, true, slot, this.submitted);
    this.writeStepConfig(slot);
    const prog = new Program('train-step');
    prog.clear({ buffer: this.model.metrics, offset: slot * METRIC_FIELDS * 4, size: METRIC_FIELDS * 4 });
    this.encodeForwardBackward(prog, micros);
    prog.append(this.optimizer);
    // A skipped step (non-finite gradients) leaves the weights as they were: converting them again is harmless.
    prog.append(this.syncHalfWeights);
    this.submit(prog);
    this.submitted++;
  }

  /** Forward and backward only (gradients accumulate in model.grads); for tests and gradient checks. */
  forwardBackward(micros: TokenBatch[]): void {
    this.stageMicroBatches(micros, true, 0, this.submitted);
    const prog = new Program('forward-backward');
    this.encodeForwardBackward(prog, micros);
    this.submit(prog);
  }

  private submit(prog: Program): void {
    const enc = this.model.device.createCommandEncoder({ label: prog.label });
    prog.encode(enc);
    this.model.device.queue.submit([enc.finish()]);
  }

  /** Reads the metrics of every step submitted since the last read (one readback). */
  async collect(): Promise<StepRecord[]> {
    if (this.submitted > this.read) {
      const raw = new Float32Array(await readBytes(this.model.device, this.model.metrics));
      for (let s = this.read; s < this.submitted; s++) {
        const o = (s % METRICS_SLOTS) * METRIC_FIELDS;
        const rows = raw[o + 2]!;
        this.pending.push({
          step: s, loss: raw[o]! / rows, accuracy: raw[o + 1]! / rows, rows, gradNorm: raw[o + 3]!, lr: raw[o + 4]!,
          optimizerSteps: raw[o + 5]!, skipped: raw[o + 6]! !== 0, lossScale: raw[o + 7]!,
        });
      }
      this.read = this.submitted;
    }
    return this.pending.splice(0);
  }

  /** The loss scaling in use (init 1 and not dynamic in fp32). */
  get lossScaling(): Readonly<LossScaleConfig & { dynamic: boolean }> {
    return this.scaling;
  }

  /** The GPU optimizer state (one readback): AdamW steps taken, skipped steps, current loss scale. */
  async readOptState(): Promise<{ optimizerSteps: number; skippedTotal: number; growthTracker: number; lr: number; lossScale: number }> {
    const raw = await readBytes(this.model.device, this.optState, 0, 32);
    const u = new Uint32Array(raw), f = new Float32Array(raw);
    return { optimizerSteps: u[0]!, skippedTotal: u[2]!, growthTracker: u[3]!, lr: f[4]!, lossScale: f[7]! };
  }

  get stepsSubmitted(): number {
    return this.submitted;
  }

  /** Loss and accuracy over `batches` (no dropout, no gradients); one readback at the end. */
  async evaluate(batches: TokenBatch[]): Promise<EvalResult> {
    const device = this.model.device;
    const clear = new Program('eval-clear');
    clear.clear(whole(this.model.evalMetrics));
    this.submit(clear);
    for (let i = 0; i < batches.length; i += this.accumulation) {
      const group = batches.slice(i, i + this.accumulation);
      this.stageMicroBatches(group, false, 0, 0);
      const prog = new Program('evaluate');
      group.forEach((_, k) => {
        this.model.copyInputs(prog, this.staging, k * this.model.record.bytes);
        prog.append(this.model.forward);
        prog.append(this.model.evalLoss);
      });
      this.submit(prog);
    }
    const m = new Float32Array(await readBytes(device, this.model.evalMetrics));
    const rows = m[2]!;
    return { loss: m[0]! / rows, accuracy: m[1]! / rows, rows };
  }

  /** Logits [B, numLabels] of one batch (evaluation mode). */
  async predict(batch: TokenBatch): Promise<Float32Array> {
    this.stageMicroBatches([batch], false, 0, 0);
    const prog = new Program('predict');
    this.model.copyInputs(prog, this.staging, 0);
    prog.append(this.model.forward);
    this.submit(prog);
    const logits = this.model.buffers.get('logits')!;
    return new Float32Array(await readBytes(this.model.device, logits, 0, batch.labels.length * this.model.config.numLabels * 4));
  }

  async readArena(which: 'params' | 'grads'): Promise<Float32Array> {
    const buf = which === 'params' ? this.model.params : this.model.grads!;
    return new Float32Array(await readBytes(this.model.device, buf, 0, this.layoutSize * 4));
  }

  destroy(): void {
    this.staging.destroy();
    this.stepConfig.destroy();
    this.moments[0].destroy();
    this.moments[1].destroy();
    this.partials.destroy();
  }
}
