// Kernel plumbing shared by every op: pipelines compiled once per (shader, entry point, override constants),
// per-dispatch parameters packed into one uniform arena at 256-byte offsets, and a recorded list of dispatches
// (a "program") that is encoded again each step without creating any GPU object.
import { Usage } from '../buffers.ts';
import { ENGINE_LIBS, HALF_NATIVE } from './lib/index.ts';

export interface BufferRange {
  buffer: GPUBuffer;
  /** Byte offset; a multiple of the device's minStorageBufferOffsetAlignment (256). */
  offset: number;
  /** Bytes. */
  size: number;
}

export function whole(buffer: GPUBuffer): BufferRange {
  return { buffer, offset: 0, size: buffer.size };
}

/** A WGSL module and the library modules it needs, which are prepended (WGSL has no imports). */
export interface ShaderSource {
  name: string;
  code: string;
  libraries?: readonly string[];
}

/** Bindings 1..n of a dispatch in order; `undefined` leaves a binding number out (an entry point that does not use it). */
export type Binding = BufferRange | undefined;

export interface Dispatch {
  label: string;
  pipeline: GPUComputePipeline;
  /** Set by KernelContext.finalize(), once every program of the model is recorded. */
  bindGroup?: GPUBindGroup;
  workgroups: [number, number, number];
}

/** A step of a program: a dispatch, a buffer copy, or a buffer clear (copies and clears end the current pass). */
export type ProgramStep =
  | { kind: 'dispatch'; dispatch: Dispatch }
  | { kind: 'copy'; src: BufferRange; dst: BufferRange }
  | { kind: 'clear'; dst: BufferRange };

export class Program {
  readonly steps: ProgramStep[] = [];
  constructor(readonly label: string) {}

  dispatch(d: Dispatch): void {
    this.steps.push({ kind: 'dispatch', dispatch: d });
  }
  copy(src: BufferRange, dst: BufferRange): void {
    this.steps.push({ kind: 'copy', src, dst });
  }
  clear(dst: BufferRange): void {
    this.steps.push({ kind: 'clear', dst });
  }
  append(other: Program): void {
    this.steps.push(...other.steps);
  }

  /** Records the program into `encoder`: consecutive dispatches share one compute pass. */
  encode(encoder: GPUCommandEncoder): void {
    let pass: GPUComputePassEncoder | undefined;
    const endPass = (): void => {
      pass?.end();
      pass = undefined;
    };
    for (const step of this.steps) {
      if (step.kind === 'dispatch') {
        pass ??= encoder.beginComputePass({ label: this.label });
        const d = step.dispatch;
        pass.setPipeline(d.pipeline);
        if (!d.bindGroup) throw new Error(`${d.label}: encoded before KernelContext.finalize()`);
        pass.setBindGroup(0, d.bindGroup);
        pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
      } else if (step.kind === 'copy') {
        endPass();
        encoder.copyBufferToBuffer(step.src.buffer, step.src.offset, step.dst.buffer, step.dst.offset, step.src.size);
      } else {
        endPass();
        encoder.clearBuffer(step.dst.buffer, step.dst.offset, step.dst.size);
      }
    }
    endPass();
  }
}

const UNIFORM_ALIGN = 256;

/** Shader modules and pipelines are immutable: every KernelContext of a device shares them, so a new trial (or a new
 * micro-batch size after an out-of-memory back-off) compiles nothing again. Keyed by shader name. */
const deviceCaches = new WeakMap<GPUDevice, { modules: Map<string, GPUShaderModule>; pipelines: Map<string, GPUComputePipeline> }>();

function cacheOf(device: GPUDevice): { modules: Map<string, GPUShaderModule>; pipelines: Map<string, GPUComputePipeline> } {
  let c = deviceCaches.get(device);
  if (!c) {
    c = { modules: new Map(), pipelines: new Map() };
    deviceCaches.set(device, c);
  }
  return c;
}

/**
 * The WGSL of a module: its libraries prepended (WGSL has no imports). With `shaderF16` the native-f16 variants of
 * HALF_NATIVE replace their portable libraries and `enable f16;` goes first (directives precede all declarations).
 */
export function assembleShader(shader: ShaderSource, libraries: Readonly<Record<string, string>>, shaderF16: boolean): string {
  const names = (shader.libraries ?? []).map((name) => (shaderF16 ? HALF_NATIVE[name] ?? name : name));
  const libs = names.map((name) => {
    const code = libraries[name];
    if (code === undefined) throw new Error(`shader ${shader.name}: unknown WGSL library ${name}`);
    return code;
  });
  const native = names.some((n) => Object.values(HALF_NATIVE).includes(n));
  return [...(native ? ['enable f16;'] : []), ...libs, shader.code].join('\n');
}

/**
 * Owns the pipelines and the per-dispatch uniform parameters of one model instance.
 * Parameters are staged on the CPU while the programs are built, then uploaded once by `finalize()`.
 */
export class KernelContext {
  private readonly modules: Map<string, GPUShaderModule>;
  private readonly pipelines: Map<string, GPUComputePipeline>;
  private readonly uniformChunks: { offset: number; bytes: Uint8Array }[] = [];
  private uniformBytes = 0;
  private uniformBuffer: GPUBuffer | undefined;
  private readonly pending: { dispatch: Dispatch; uniformOffset: number; uniformSize: number; bindings: Binding[] }[] = [];
  private finalized = false;
  /** Buffers bound where a kernel needs no data (one read-only, one writable: a buffer cannot be both in one dispatch). */
  readonly dummyRead: GPUBuffer;
  readonly dummyWrite: GPUBuffer;

  private readonly libraries: Readonly<Record<string, string>>;
  /**
   * True on a CPU adapter (SwiftShader, a fallback adapter), where workgroup barriers are emulated per invocation and
   * cost more than the memory traffic they save: kernels with a barrier-free variant use it there.
   */
  readonly preferBarrierFree: boolean;

  /**
   * True when the device has `shader-f16`: 16-bit storage then goes through native f16 types (lib/half-f16.wgsl)
   * instead of pack2x16float/unpack2x16float. Used where offered, never required.
   */
  readonly shaderF16: boolean;

  /** `libraries` extend the engine's own WGSL libraries (lib/index.ts). */
  constructor(
    readonly device: GPUDevice,
    libraries: Readonly<Record<string, string>>,
    readonly label: string,
  ) {
    this.libraries = { ...ENGINE_LIBS, ...libraries };
    const info = (device as Partial<Pick<GPUDevice, 'adapterInfo'>>).adapterInfo;
    this.shaderF16 = device.features.has('shader-f16');
    this.preferBarrierFree = info !== undefined && (info.architecture === 'swiftshader' || (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true);
    ({ modules: this.modules, pipelines: this.pipelines } = cacheOf(device));
    this.dummyRead = device.createBuffer({ label: `${label}/dummy-read`, size: 256, usage: Usage.STORAGE });
    this.dummyWrite = device.createBuffer({ label: `${label}/dummy-write`, size: 256, usage: Usage.STORAGE });
  }

  pipeline(shader: ShaderSource, entryPoint: string, constants: Record<string, number> = {}): GPUComputePipeline {
    const key = `${shader.name}:${entryPoint}:${JSON.stringify(constants)}`;
    let p = this.pipelines.get(key);
    if (!p) {
      let module = this.modules.get(shader.name);
      if (!module) {
        module = this.device.createShaderModule({ label: shader.name, code: assembleShader(shader, this.libraries, this.shaderF16) });
        this.modules.set(shader.name, module);
      }
      p = this.device.createComputePipeline({ label: `${shader.name}:${entryPoint}`, layout: 'auto', compute: { module, entryPoint, constants } });
      this.pipelines.set(key, p);
    }
    return p;
  }

  /**
   * Records a dispatch. `params` is the kernel's uniform struct (binding 0) as 32-bit words: numbers are written as
   * u32 unless listed in `floatFields` (indices written as f32). The other bindings follow in order from binding 1.
   */
  dispatch(label: string, pipeline: GPUComputePipeline, params: { words: number[]; floats?: readonly number[] } | undefined, bindings: Binding[], workgroups: [number, number, number]): Dispatch {
    if (this.finalized) throw new Error(`${label}: recorded after KernelContext.finalize()`);
    const max = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (workgroups.some((w) => w > max)) throw new Error(`${label}: dispatch ${workgroups.join('x')} exceeds maxComputeWorkgroupsPerDimension ${max}`);
    let uniformOffset = -1;
    let uniformSize = 0;
    if (params) {
      const bytes = new Uint8Array(Math.max(16, Math.ceil((params.words.length * 4) / 16) * 16));
      const view = new DataView(bytes.buffer);
      const floats = new Set(params.floats ?? []);
      params.words.forEach((w, i) => (floats.has(i) ? view.setFloat32(4 * i, w, true) : view.setUint32(4 * i, w >>> 0, true)));
      uniformOffset = this.uniformBytes;
      uniformSize = bytes.length;
      this.uniformChunks.push({ offset: uniformOffset, bytes });
      this.uniformBytes += Math.ceil(bytes.length / UNIFORM_ALIGN) * UNIFORM_ALIGN;
    }
    const d: Dispatch = { label, pipeline, workgroups: [Math.max(1, workgroups[0]), Math.max(1, workgroups[1]), Math.max(1, workgroups[2])] };
    this.pending.push({ dispatch: d, uniformOffset, uniformSize, bindings });
    return d;
  }

  /** Uploads the parameters and creates every bind group; called once, after all programs are recorded. */
  finalize(): void {
    if (this.finalized) return;
    this.finalized = true;
    if (this.uniformBytes > 0) {
      const buf = this.device.createBuffer({ label: `${this.label}/dispatch-params`, size: this.uniformBytes, usage: Usage.UNIFORM | Usage.COPY_DST });
      const all = new Uint8Array(this.uniformBytes);
      for (const c of this.uniformChunks) all.set(c.bytes, c.offset);
      this.device.queue.writeBuffer(buf, 0, all);
      this.uniformBuffer = buf;
    }
    for (const p of this.pending) {
      const entries: GPUBindGroupEntry[] = [];
      if (p.uniformOffset >= 0) entries.push({ binding: 0, resource: { buffer: this.uniformBuffer!, offset: p.uniformOffset, size: p.uniformSize } });
      p.bindings.forEach((b, i) => {
        if (b) entries.push({ binding: i + 1, resource: { buffer: b.buffer, offset: b.offset, size: b.size } });
      });
      p.dispatch.bindGroup = this.device.createBindGroup({ label: p.dispatch.label, layout: p.dispatch.pipeline.getBindGroupLayout(0), entries });
    }
    this.pending.length = 0;
  }

  destroy(): void {
    this.uniformBuffer?.destroy();
    this.dummyRead.destroy();
    this.dummyWrite.destroy();
  }
}
