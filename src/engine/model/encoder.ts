// The fixed forward/backward schedule of a post-LN encoder classifier (DistilBERT and BERT), recorded once per
// (model, micro-batch, sequence length) into programs of GEMMs and fused kernels; every step re-encodes the same
// dispatches. Shapes: B = micro-batch, T = sequence length, M = B*T rows, D hidden, H heads, dh = D/H, F ffn width.
import { createStorage, Usage } from '../buffers.ts';
import { KernelContext, Program, whole, type BufferRange, type ShaderSource } from '../kernels/kernel.ts';
import { recordGemm, type GemmSpec, type Operand } from '../kernels/gemm/gemm.ts';
import layernormSrc from '../kernels/layernorm/layernorm.wgsl?raw';
import embeddingSrc from '../kernels/embedding/embedding.wgsl?raw';
import softmaxSrc from '../kernels/softmax/softmax.wgsl?raw';
import colsumSrc from '../kernels/reduce/colsum.wgsl?raw';
import headSrc from '../kernels/head/head.wgsl?raw';
import type { EncoderConfig } from './config.ts';
import { layerBlock, type LayerRole, type ModelParams } from './params.ts';
import { recordLayout, type RecordLayout } from './inputs.ts';

const layernormShader: ShaderSource = { name: 'layernorm', code: layernormSrc, libraries: ['dropout', 'half', 'row-reduce'] };
const embeddingShader: ShaderSource = { name: 'embedding', code: embeddingSrc, libraries: ['dropout', 'row-reduce'] };
const softmaxShader: ShaderSource = { name: 'softmax', code: softmaxSrc, libraries: ['dropout'] };
const colsumShader: ShaderSource = { name: 'colsum', code: colsumSrc };
const headShader: ShaderSource = { name: 'head', code: headSrc, libraries: ['dropout'] };

/** Dropout site ids: the hash input that tells the sites of one micro-batch apart. */
const SITE = { embeddings: 1, head: 2, attnProbs: (l: number) => 100 + 4 * l, attnOut: (l: number) => 101 + 4 * l, ffnOut: (l: number) => 102 + 4 * l };

export interface EncoderShape {
  batch: number;
  seqLen: number;
}

/** fp32: every buffer fp32. fp16 (mixed precision): the saved activations written by GEMMs and LayerNorms are stored as
 * packed binary16, and the linear layers' GEMMs read a binary16 copy of the weights (params16, as autocast does);
 * the fp32 master parameters, gradients, optimizer state, statistics, attention probabilities and the head stay fp32. */
export type Precision = 'fp32' | 'fp16';

/** Activations stored in 16 bits under fp16: each needs even widths so its writers emit whole u32 words. */
export function halfActivation(c: EncoderConfig, name: string): boolean {
  const D = c.hidden, dh = c.hidden / c.heads, F = c.ffn;
  if (/^x[1-9]\d*$/.test(name) || /^L\d+\.(qkv|attn|h1|f2)$/.test(name)) return D % 2 === 0;
  if (/^L\d+\.ctx$/.test(name)) return D % 2 === 0 && dh % 2 === 0;
  if (/^L\d+\.(f1pre|g)$/.test(name)) return F % 2 === 0;
  return false;
}

/** Initial OptState words (optimizer.wgsl): t 0, skip 0, skipped 0, growth tracker 0, lr 0, clip 1, norm 0, loss scale. */
export function optStateWords(lossScale: number): ArrayBuffer {
  const buf = new ArrayBuffer(32);
  new Float32Array(buf, 16, 4).set([0, 1, 0, lossScale]);
  return buf;
}

/** Metrics ring: 8 floats per step slot (see optimizer.wgsl / head.wgsl). */
export const METRICS_SLOTS = 64;
export const METRIC_FIELDS = 8;

/** The GPU buffers of one model instance, by name, with their sizes: the memory planner sums the same list. */
export function activationBuffers(c: EncoderConfig, s: EncoderShape, training: boolean, precision: Precision = 'fp32'): { name: string; bytes: number; half: boolean }[] {
  const B = s.batch, T = s.seqLen, M = B * T, D = c.hidden, F = c.ffn, H = c.heads;
  const out: { name: string; bytes: number; half: boolean }[] = [];
  const f = (name: string, floats: number): void => {
    const half = precision === 'fp16' && halfActivation(c, name);
    out.push({ name, bytes: Math.ceil((floats * (half ? 2 : 4)) / 16) * 16, half });
  };
  const attnDropout = training && c.attentionDropout > 0;
  f('x0', M * D);
  f('emb.stats', 2 * M);
  for (let l = 0; l < c.layers; l++) {
    f(`L${l}.qkv`, 3 * M * D);
    f(`L${l}.probs`, B * H * T * T);
    if (attnDropout) f(`L${l}.dropped`, B * H * T * T);
    f(`L${l}.ctx`, M * D);
    f(`L${l}.attn`, M * D);
    f(`L${l}.h1`, M * D);
    f(`L${l}.stats1`, 2 * M);
    f(`L${l}.f1pre`, M * F);
    f(`L${l}.g`, M * F);
    f(`L${l}.f2`, M * D);
    f(`L${l}.stats2`, 2 * M);
    f(`x${l + 1}`, M * D);
  }
  f('head.act', B * D);
  f('head.dropped', B * D);
  f('logits', B * c.numLabels);
  if (training) {
    f('d.x.a', M * D);
    f('d.x.b', M * D);
    f('d.h1', M * D);
    f('d.f2', M * D);
    f('d.g', M * F);
    f('d.attn', M * D);
    f('d.ctx', M * D);
    f('d.qkv', 3 * M * D);
    f('d.probs', B * H * T * T);
    f('d.dyEff', M * D);
    f('d.dyXhat', M * D);
    f('d.colsum', Math.ceil(M / 256) * Math.max(3 * D, F));
    f('d.logits', B * c.numLabels);
    f('d.headDropped', B * D);
    f('d.headAct', B * D);
  }
  const rec = recordLayout(B, T);
  f('in.ids', rec.idsBytes / 4);
  f('in.lengths', rec.lengthsBytes / 4);
  f('in.labels', rec.labelsBytes / 4);
  if (training) f('in.groups', rec.groupsBytes / 4);
  return out;
}

/**
 * One model instance on the GPU: parameters (and, for training, gradients) in arenas, activations sized for one
 * micro-batch, and the recorded programs. Optimizer state lives in train/trainer.ts.
 */
export class EncoderClassifier {
  readonly ctx: KernelContext;
  readonly params: GPUBuffer;
  readonly grads: GPUBuffer | undefined;
  /** fp16 only: packed-binary16 copy of `params` (same element offsets) that the linear layers' weight operands bind.
   * Whoever writes `params` refreshes it (Trainer: after setWeights and after every optimizer step). */
  readonly params16: GPUBuffer | undefined;
  readonly buffers = new Map<string, GPUBuffer>();
  readonly micro: GPUBuffer;
  readonly metrics: GPUBuffer;
  readonly evalMetrics: GPUBuffer;
  /** OptState of optimizer.wgsl: step count, skip flag, lr, clip, grad norm, loss scale. */
  readonly optState: GPUBuffer;
  readonly record: RecordLayout;
  /** Buffers stored as packed binary16 (activations, params16). */
  private readonly halfBuffers = new Set<GPUBuffer>();
  /** Embedding .. logits. */
  readonly forward = new Program('forward');
  /** Cross-entropy + backward into the gradient arena (accumulating). */
  readonly backward = new Program('backward');
  /** Cross-entropy into evalMetrics (slot 0), no gradients. */
  readonly evalLoss = new Program('eval-loss');

  constructor(
    readonly device: GPUDevice,
    readonly config: EncoderConfig,
    readonly model: ModelParams,
    readonly shape: EncoderShape,
    readonly training: boolean,
    label = 'encoder',
    readonly precision: Precision = 'fp32',
  ) {
    const c = config;
    this.ctx = new KernelContext(device, {}, label);
    this.record = recordLayout(shape.batch, shape.seqLen);
    const arenaBytes = model.layout.size * 4;
    this.params = createStorage(device, `${label}/params`, arenaBytes);
    this.grads = training ? createStorage(device, `${label}/grads`, arenaBytes) : undefined;
    this.params16 = precision === 'fp16' ? createStorage(device, `${label}/params-fp16`, arenaBytes / 2) : undefined;
    if (this.params16) this.halfBuffers.add(this.params16);
    for (const b of activationBuffers(c, shape, training, precision)) {
      const buffer = createStorage(device, `${label}/${b.name}`, b.bytes);
      this.buffers.set(b.name, buffer);
      if (b.half) this.halfBuffers.add(buffer);
    }
    // Loss scale and optimizer state (optimizer.wgsl OptState, 32 bytes): here because the cross-entropy kernel reads
    // the loss scale; the trainer initialises and updates it.
    this.optState = createStorage(device, `${label}/optimizer-state`, 32);
    device.queue.writeBuffer(this.optState, 0, optStateWords(1));
    this.micro = device.createBuffer({ label: `${label}/micro-state`, size: 16, usage: Usage.UNIFORM | Usage.COPY_DST });
    this.metrics = createStorage(device, `${label}/metrics-ring`, METRICS_SLOTS * METRIC_FIELDS * 4);
    this.evalMetrics = createStorage(device, `${label}/eval-metrics`, METRIC_FIELDS * 4);
    this.recordForward();
    this.recordLoss(this.evalLoss, true);
    if (training) {
      this.recordLoss(this.backward, false);
      this.recordBackward();
    }
  }

  get layout(): ModelParams['layout'] {
    return this.model.layout;
  }

  buf(name: string): BufferRange {
    const b = this.buffers.get(name);
    if (!b) throw new Error(`encoder: no buffer ${name}`);
    return whole(b);
  }

  /** A parameter block as a bound range of the params (or grads) arena. */
  block(key: string, arena: 'params' | 'grads' = 'params'): BufferRange {
    const b = this.model.layout.blocks.get(key);
    if (!b) throw new Error(`encoder: no parameter block ${key}`);
    const buffer = arena === 'params' ? this.params : this.grads;
    if (!buffer) throw new Error('encoder: no gradient arena (inference instance)');
    return { buffer, offset: b.offset * 4, size: Math.ceil((b.count * 4) / 16) * 16 };
  }

  private lb(l: number, role: LayerRole, arena: 'params' | 'grads' = 'params'): BufferRange {
    return this.block(layerBlock(l, role), arena);
  }

  /**
   * The weight operand of a linear layer's GEMM for fp32 block range `w`: the same block of params16 under fp16. A
   * block starts 256-byte aligned in the fp32 arena, so only 128-byte aligned in params16: the range is bound from the
   * 256-byte boundary below it (binding offsets must be 256-byte aligned) and the operand's `off` skips the rest.
   */
  private weight(w: BufferRange): Pick<Operand, 'buf' | 'off'> {
    if (!this.params16 || w.buffer !== this.params) return { buf: w };
    const start = w.offset / 2; // bytes: 2 per element instead of 4
    const offset = Math.floor(start / 256) * 256;
    return { buf: { buffer: this.params16, offset, size: Math.ceil((start - offset + w.size / 2) / 16) * 16 }, off: (start - offset) / 2 };
  }

  private isHalf(r: BufferRange | undefined): boolean {
    return r !== undefined && this.halfBuffers.has(r.buffer);
  }

  /** recordGemm with each operand's storage format taken from the buffer it binds. */
  private gemm(prog: Program, s: Omit<GemmSpec, 'half'>): void {
    recordGemm(this.ctx, prog, { ...s, half: { A: this.isHalf(s.A.buf), B: this.isHalf(s.B.buf), C: this.isHalf(s.C.buf), aux: this.isHalf(s.aux) } });
  }

  private rowsGrid(rows: number): [number, number, number] {
    return [Math.min(rows, 65535), Math.ceil(rows / 65535), 1];
  }

  private layernorm(prog: Program, l: string, a: BufferRange, b: BufferRange, gamma: BufferRange, beta: BufferRange, site: number, p: number, fwd: { y: BufferRange; stats: BufferRange } | { stats: BufferRange; dy: BufferRange; dB: BufferRange; dA: BufferRange }): void {
    const M = this.shape.batch * this.shape.seqLen, D = this.config.hidden;
    const words = [M, D, this.config.layerNormEps, site, p, 0, 0, 0];
    const params = { words, floats: [2, 4] };
    const half = { HALF_A: this.isHalf(a) ? 1 : 0, HALF_B: this.isHalf(b) ? 1 : 0, HALF_Y: 'y' in fwd && this.isHalf(fwd.y) ? 1 : 0 };
    if ('y' in fwd) {
      const pl = this.ctx.pipeline(layernormShader, 'forward', half);
      prog.dispatch(this.ctx.dispatch(`${l}:ln-forward`, pl, params, [whole(this.micro), a, b, gamma, beta, fwd.y, fwd.stats], this.rowsGrid(M)));
    } else {
      const pl = this.ctx.pipeline(layernormShader, 'backward', half);
      prog.dispatch(this.ctx.dispatch(`${l}:ln-backward`, pl, params, [whole(this.micro), a, b, gamma, undefined, undefined, fwd.stats, fwd.dy, fwd.dB, fwd.dA, this.buf('d.dyXhat')], this.rowsGrid(M)));
    }
  }

  /** dst[N] += column sums of src[rows, N]. */
  private colsum(prog: Program, label: string, src: BufferRange, rows: number, N: number, dst: BufferRange): void {
    const chunks = Math.ceil(rows / 256);
    const params = { words: [rows, N, chunks, 0] };
    const partials = this.buf('d.colsum');
    prog.dispatch(this.ctx.dispatch(`${label}:colsum-partial`, this.ctx.pipeline(colsumShader, 'partial'), params, [src, partials, undefined], [Math.ceil(N / 64), chunks, 1]));
    prog.dispatch(this.ctx.dispatch(`${label}:colsum-finalize`, this.ctx.pipeline(colsumShader, 'finalize'), params, [undefined, partials, dst], [Math.ceil(N / 64), 1, 1]));
  }

  /** Linear layer y = x W^T + b over `rows` rows with row stride `xStride` (W is [out, in] as in PyTorch; `w` is its fp32
   * block, read from params16 under fp16). */
  private linear(prog: Program, label: string, x: Operand, w: BufferRange, bias: BufferRange, rows: number, inF: number, outF: number, y: BufferRange, epilogue: 'bias' | 'biasGelu' | 'biasRelu' | 'biasTanh', aux?: BufferRange): void {
    this.gemm(prog, { label, M: rows, N: outF, K: inF, A: x, B: { ...this.weight(w), rs: 1, cs: inF }, C: { buf: y, rs: outF, cs: 1 }, epilogue, bias, ...(aux ? { aux } : {}) });
  }

  /** Backward of y = x W^T + b: dW += dy^T x, db += colsum(dy), and (when dx is given) dx (+)= dy W (W from params16
   * under fp16, as in the forward; dW and db accumulate in fp32). */
  private linearBackward(prog: Program, label: string, x: Operand, w: BufferRange, dw: BufferRange, db: BufferRange, dy: BufferRange, rows: number, inF: number, outF: number, dx?: { buf: BufferRange; rs: number; beta: number; epilogue?: 'geluGrad'; aux?: BufferRange }): void {
    this.gemm(prog, { label: `${label}:dW`, M: outF, N: inF, K: rows, A: { buf: dy, rs: 1, cs: outF }, B: x, C: { buf: dw, rs: inF, cs: 1 }, beta: 1 });
    this.colsum(prog, `${label}:db`, dy, rows, outF, db);
    if (dx) {
      this.gemm(prog, {
        label: `${label}:dX`, M: rows, N: inF, K: outF, A: { buf: dy, rs: outF, cs: 1 }, B: { ...this.weight(w), rs: inF, cs: 1 }, C: { buf: dx.buf, rs: dx.rs, cs: 1 }, beta: dx.beta,
        ...(dx.epilogue ? { epilogue: dx.epilogue } : {}), ...(dx.aux ? { aux: dx.aux } : {}),
      });
    }
  }

  private recordForward(): void {
    const c = this.config, p = this.forward, ctx = this.ctx;
    const B = this.shape.batch, T = this.shape.seqLen, M = B * T, D = c.hidden, F = c.ffn, H = c.heads, dh = D / H;
    const train = this.training;
    const embParams = { words: [M, D, T, c.layerNormEps, SITE.embeddings, c.hiddenDropout, B, 0], floats: [3, 5] };
    const typeBlock = c.typeVocab > 0 ? this.block('type') : { buffer: ctx.dummyRead, offset: 0, size: 256 };
    p.dispatch(ctx.dispatch('embeddings', ctx.pipeline(embeddingShader, 'forward', { TYPES: c.typeVocab > 0 ? 1 : 0 }), embParams,
      [whole(this.micro), this.buf('in.ids'), this.block('word'), this.block('pos'), typeBlock, this.block('embln.g'), this.block('embln.b'), this.buf('x0'), this.buf('emb.stats')], this.rowsGrid(M)));
    for (let l = 0; l < c.layers; l++) {
      const x = this.buf(`x${l}`), qkv = this.buf(`L${l}.qkv`), probs = this.buf(`L${l}.probs`);
      const dropped = train && c.attentionDropout > 0 ? this.buf(`L${l}.dropped`) : probs;
      this.linear(p, `L${l}.qkv`, { buf: x, rs: D, cs: 1 }, this.lb(l, 'qkv.w'), this.lb(l, 'qkv.b'), M, D, 3 * D, qkv, 'bias');
      this.gemm(p, {
        label: `L${l}.scores`, M: T, N: T, K: dh, batches: B, heads: H, alpha: 1 / Math.sqrt(dh),
        A: { buf: qkv, rs: 3 * D, cs: 1, offB: T * 3 * D, offH: dh },
        B: { buf: qkv, off: D, rs: 1, cs: 3 * D, offB: T * 3 * D, offH: dh },
        C: { buf: probs, rs: T, cs: 1, offB: H * T * T, offH: T * T },
      });
      const smParams = { words: [T, H, SITE.attnProbs(l), dropped === probs ? 0 : c.attentionDropout, 1 / Math.sqrt(dh), 0, 0, 0], floats: [3, 4] };
      p.dispatch(ctx.dispatch(`L${l}.softmax`, ctx.pipeline(softmaxShader, 'forward'), smParams,
        [whole(this.micro), this.buf('in.lengths'), probs, dropped === probs ? { buffer: ctx.dummyWrite, offset: 0, size: 256 } : dropped, undefined], [T, B * H, 1]));
      this.gemm(p, {
        label: `L${l}.context`, M: T, N: dh, K: T, batches: B, heads: H,
        A: { buf: dropped, rs: T, cs: 1, offB: H * T * T, offH: T * T },
        B: { buf: qkv, off: 2 * D, rs: 3 * D, cs: 1, offB: T * 3 * D, offH: dh },
        C: { buf: this.buf(`L${l}.ctx`), rs: D, cs: 1, offB: T * D, offH: dh },
      });
      this.linear(p, `L${l}.out`, { buf: this.buf(`L${l}.ctx`), rs: D, cs: 1 }, this.lb(l, 'o.w'), this.lb(l, 'o.b'), M, D, D, this.buf(`L${l}.attn`), 'bias');
      const attnOutDrop = c.arch === 'bert' ? c.hiddenDropout : 0; // DistilBERT has no dropout on the attention output
      this.layernorm(p, `L${l}.ln1`, this.buf(`L${l}.attn`), x, this.lb(l, 'ln1.g'), this.lb(l, 'ln1.b'), SITE.attnOut(l), attnOutDrop, { y: this.buf(`L${l}.h1`), stats: this.buf(`L${l}.stats1`) });
      this.linear(p, `L${l}.ffn1`, { buf: this.buf(`L${l}.h1`), rs: D, cs: 1 }, this.lb(l, 'f1.w'), this.lb(l, 'f1.b'), M, D, F, this.buf(`L${l}.g`), 'biasGelu', this.buf(`L${l}.f1pre`));
      this.linear(p, `L${l}.ffn2`, { buf: this.buf(`L${l}.g`), rs: F, cs: 1 }, this.lb(l, 'f2.w'), this.lb(l, 'f2.b'), M, F, D, this.buf(`L${l}.f2`), 'bias');
      this.layernorm(p, `L${l}.ln2`, this.buf(`L${l}.f2`), this.buf(`L${l}.h1`), this.lb(l, 'ln2.g'), this.lb(l, 'ln2.b'), SITE.ffnOut(l), c.hiddenDropout, { y: this.buf(`x${l + 1}`), stats: this.buf(`L${l}.stats2`) });
    }
    // Head on the [CLS] rows (row stride T*D): dense + ReLU (DistilBERT pre_classifier) or tanh (BERT pooler), dropout, classifier.
    const act = c.arch === 'bert' ? 'biasTanh' : 'biasRelu';
    this.linear(p, 'head.dense', { buf: this.buf(`x${c.layers}`), rs: T * D, cs: 1 }, this.block('pre.w'), this.block('pre.b'), B, D, D, this.buf('head.act'), act);
    p.dispatch(ctx.dispatch('head.dropout', ctx.pipeline(headShader, 'dropout_forward'), this.headParams(),
      [whole(this.micro), this.buf('head.act'), this.buf('head.dropped'), undefined, undefined, undefined], [Math.ceil((B * D) / 64), 1, 1]));
    this.linear(p, 'head.classifier', { buf: this.buf('head.dropped'), rs: D, cs: 1 }, this.block('cls.w'), this.block('cls.b'), B, D, c.numLabels, this.buf('logits'), 'bias');
  }

  private headParams(evalSlot = false): { words: number[]; floats: number[] } {
    const c = this.config;
    return { words: [this.shape.batch, c.hidden, c.numLabels, SITE.head, c.classifierDropout, c.arch === 'bert' ? 1 : 0, evalSlot ? 1 : 0, 0], floats: [4] };
  }

  private recordLoss(prog: Program, evaluation: boolean): void {
    const dLogits = evaluation ? { buffer: this.ctx.dummyWrite, offset: 0, size: 256 } : this.buf('d.logits');
    prog.dispatch(this.ctx.dispatch(evaluation ? 'eval-cross-entropy' : 'cross-entropy', this.ctx.pipeline(headShader, 'cross_entropy'), this.headParams(evaluation),
      [whole(this.micro), this.buf('logits'), dLogits, this.buf('in.labels'), whole(evaluation ? this.evalMetrics : this.metrics), undefined, whole(this.optState)], [1, 1, 1]));
  }

  private recordBackward(): void {
    const c = this.config, p = this.backward, ctx = this.ctx;
    const B = this.shape.batch, T = this.shape.seqLen, M = B * T, D = c.hidden, F = c.ffn, H = c.heads, dh = D / H, C = c.numLabels;
    // Head.
    this.linearBackward(p, 'head.classifier', { buf: this.buf('head.dropped'), rs: D, cs: 1 }, this.block('cls.w'), this.block('cls.w', 'grads'), this.block('cls.b', 'grads'), this.buf('d.logits'), B, D, C, { buf: this.buf('d.headDropped'), rs: D, beta: 0 });
    p.dispatch(ctx.dispatch('head.dropout-act-backward', ctx.pipeline(headShader, 'dropout_act_backward'), this.headParams(),
      [whole(this.micro), this.buf('head.act'), this.buf('d.headAct'), undefined, undefined, this.buf('d.headDropped')], [Math.ceil((B * D) / 64), 1, 1]));
    let dOut = this.buf('d.x.a'), dIn = this.buf('d.x.b');
    p.clear(dOut); // only the [CLS] rows receive a gradient from the head
    this.linearBackward(p, 'head.dense', { buf: this.buf(`x${c.layers}`), rs: T * D, cs: 1 }, this.block('pre.w'), this.block('pre.w', 'grads'), this.block('pre.b', 'grads'), this.buf('d.headAct'), B, D, D, { buf: dOut, rs: T * D, beta: 0 });
    for (let l = c.layers - 1; l >= 0; l--) {
      const x = this.buf(`x${l}`), qkv = this.buf(`L${l}.qkv`), probs = this.buf(`L${l}.probs`);
      const dropped = this.training && c.attentionDropout > 0 ? this.buf(`L${l}.dropped`) : probs;
      const dH1 = this.buf('d.h1'), dF2 = this.buf('d.f2'), dG = this.buf('d.g'), dAttn = this.buf('d.attn'), dCtx = this.buf('d.ctx'), dQKV = this.buf('d.qkv'), dProbs = this.buf('d.probs');
      // output LayerNorm: x_{l+1} = LN(dropout(f2) + h1)
      this.layernorm(p, `L${l}.ln2`, this.buf(`L${l}.f2`), this.buf(`L${l}.h1`), this.lb(l, 'ln2.g'), this.lb(l, 'ln2.b'), SITE.ffnOut(l), c.hiddenDropout, { stats: this.buf(`L${l}.stats2`), dy: dOut, dB: dH1, dA: dF2 });
      this.colsum(p, `L${l}.ln2.gamma`, this.buf('d.dyXhat'), M, D, this.lb(l, 'ln2.g', 'grads'));
      this.colsum(p, `L${l}.ln2.beta`, dOut, M, D, this.lb(l, 'ln2.b', 'grads'));
      // FFN: f2 = gelu(h1 W1^T + b1) W2^T + b2; dG is fused with GELU' of the saved pre-activation.
      this.linearBackward(p, `L${l}.ffn2`, { buf: this.buf(`L${l}.g`), rs: F, cs: 1 }, this.lb(l, 'f2.w'), this.lb(l, 'f2.w', 'grads'), this.lb(l, 'f2.b', 'grads'), dF2, M, F, D, { buf: dG, rs: F, beta: 0, epilogue: 'geluGrad', aux: this.buf(`L${l}.f1pre`) });
      this.linearBackward(p, `L${l}.ffn1`, { buf: this.buf(`L${l}.h1`), rs: D, cs: 1 }, this.lb(l, 'f1.w'), this.lb(l, 'f1.w', 'grads'), this.lb(l, 'f1.b', 'grads'), dG, M, D, F, { buf: dH1, rs: D, beta: 1 });
      // attention LayerNorm: h1 = LN(dropout(attn) + x)
      const attnOutDrop = c.arch === 'bert' ? c.hiddenDropout : 0;
      this.layernorm(p, `L${l}.ln1`, this.buf(`L${l}.attn`), x, this.lb(l, 'ln1.g'), this.lb(l, 'ln1.b'), SITE.attnOut(l), attnOutDrop, { stats: this.buf(`L${l}.stats1`), dy: dH1, dB: dIn, dA: dAttn });
      this.colsum(p, `L${l}.ln1.gamma`, this.buf('d.dyXhat'), M, D, this.lb(l, 'ln1.g', 'grads'));
      this.colsum(p, `L${l}.ln1.beta`, dH1, M, D, this.lb(l, 'ln1.b', 'grads'));
      this.linearBackward(p, `L${l}.out`, { buf: this.buf(`L${l}.ctx`), rs: D, cs: 1 }, this.lb(l, 'o.w'), this.lb(l, 'o.w', 'grads'), this.lb(l, 'o.b', 'grads'), dAttn, M, D, D, { buf: dCtx, rs: D, beta: 0 });
      // attention core, per (b, h): ctx = Pd V, Pd = dropout(softmax(scale Q K^T + mask))
      const head = (buf: BufferRange, off: number, rs: number, cs: number, perB: number, perH: number): Operand => ({ buf, off, rs, cs, offB: perB, offH: perH });
      this.gemm(p, { label: `L${l}.dProbs`, M: T, N: T, K: dh, batches: B, heads: H, A: head(dCtx, 0, D, 1, T * D, dh), B: head(qkv, 2 * D, 1, 3 * D, T * 3 * D, dh), C: head(dProbs, 0, T, 1, H * T * T, T * T) });
      this.gemm(p, { label: `L${l}.dV`, M: T, N: dh, K: T, batches: B, heads: H, A: head(dropped, 0, 1, T, H * T * T, T * T), B: head(dCtx, 0, D, 1, T * D, dh), C: head(dQKV, 2 * D, 3 * D, 1, T * 3 * D, dh) });
      const smParams = { words: [T, H, SITE.attnProbs(l), c.attentionDropout, 1 / Math.sqrt(dh), 0, 0, 0], floats: [3, 4] };
      p.dispatch(ctx.dispatch(`L${l}.softmax-backward`, ctx.pipeline(softmaxShader, 'backward'), smParams, [whole(this.micro), undefined, probs, undefined, dProbs], [T, B * H, 1]));
      this.gemm(p, { label: `L${l}.dQ`, M: T, N: dh, K: T, batches: B, heads: H, A: head(dProbs, 0, T, 1, H * T * T, T * T), B: head(qkv, D, 3 * D, 1, T * 3 * D, dh), C: head(dQKV, 0, 3 * D, 1, T * 3 * D, dh) });
      this.gemm(p, { label: `L${l}.dK`, M: T, N: dh, K: T, batches: B, heads: H, A: head(dProbs, 0, 1, T, H * T * T, T * T), B: head(qkv, 0, 3 * D, 1, T * 3 * D, dh), C: head(dQKV, D, 3 * D, 1, T * 3 * D, dh) });
      this.linearBackward(p, `L${l}.qkv`, { buf: x, rs: D, cs: 1 }, this.lb(l, 'qkv.w'), this.lb(l, 'qkv.w', 'grads'), this.lb(l, 'qkv.b', 'grads'), dQKV, M, D, 3 * D, { buf: dIn, rs: D, beta: 1 });
      [dOut, dIn] = [dIn, dOut];
    }
    // Embeddings: LN backward (through the embedding dropout), then the tables.
    const embParams = { words: [M, D, T, c.layerNormEps, SITE.embeddings, c.hiddenDropout, B, 0], floats: [3, 5] };
    const typeBlock = c.typeVocab > 0 ? this.block('type') : { buffer: ctx.dummyRead, offset: 0, size: 256 };
    const dSum = this.buf('d.attn');
    p.dispatch(ctx.dispatch('embeddings-backward', ctx.pipeline(embeddingShader, 'backward_ln', { TYPES: c.typeVocab > 0 ? 1 : 0 }), embParams,
      [whole(this.micro), this.buf('in.ids'), this.block('word'), this.block('pos'), typeBlock, this.block('embln.g'), undefined, undefined, this.buf('emb.stats'), dOut, dSum, this.buf('d.dyEff'), this.buf('d.dyXhat')], this.rowsGrid(M)));
    this.colsum(p, 'embeddings.ln.gamma', this.buf('d.dyXhat'), M, D, this.block('embln.g', 'grads'));
    this.colsum(p, 'embeddings.ln.beta', this.buf('d.dyEff'), M, D, this.block('embln.b', 'grads'));
    const gradParams = { words: [M, D, T, B] };
    p.dispatch(ctx.dispatch('embeddings-word-grad', ctx.pipeline(embeddingShader, 'backward_word'), gradParams, [dSum, this.buf('in.groups'), this.block('word', 'grads')], this.rowsGrid(M)));
    const posThreads = T * D;
    p.dispatch(ctx.dispatch('embeddings-pos-grad', ctx.pipeline(embeddingShader, 'backward_pos'), gradParams, [dSum, undefined, this.block('pos', 'grads')], [Math.min(Math.ceil(posThreads / 64), 65535), Math.ceil(posThreads / 64 / 65535), 1]));
    if (c.typeVocab > 0) this.colsum(p, 'embeddings.type', dSum, M, D, this.block('type', 'grads')); // token type 0 only
  }

  /** Copies of one staged micro-batch record into the input buffers (recorded per step: the offset varies). */
  copyInputs(prog: Program, staging: GPUBuffer, offset: number): void {
    const r = this.record;
    prog.copy({ buffer: staging, offset: offset + r.ids, size: r.idsBytes }, this.buf('in.ids'));
    prog.copy({ buffer: staging, offset: offset + r.lengths, size: r.lengthsBytes }, this.buf('in.lengths'));
    prog.copy({ buffer: staging, offset: offset + r.labels, size: r.labelsBytes }, this.buf('in.labels'));
    if (this.training) prog.copy({ buffer: staging, offset: offset + r.groups, size: r.groupsBytes }, this.buf('in.groups'));
    prog.copy({ buffer: staging, offset: offset + r.micro, size: r.microBytes }, whole(this.micro));
  }

  destroy(): void {
    this.ctx.destroy();
    this.params.destroy();
    this.grads?.destroy();
    this.params16?.destroy();
    for (const b of this.buffers.values()) b.destroy();
    this.micro.destroy();
    this.metrics.destroy();
    this.evalMetrics.destroy();
    this.optState.destroy();
  }
}
