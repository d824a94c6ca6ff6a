// GEMM kernel throughput on the shapes of one DistilBERT training step (sequence 192), per variant (`tiled`: shared-
// memory tiles, what GPUs run; `direct`: the barrier-free variant of CPU adapters); fp32 and 16-bit operands.
// TFLOP/s = 2*M*N*K*batches over the wall time of `reps` dispatches in one submit (best of two, after a warm-up
// submit), divided by reps. One JSON line per shape, storage and variant.
//   node gemm-bench.mjs [--batch 32] [--reps 20] [--toggles vulkan_enable_f16_on_nvidia]
import { parseArgs } from 'node:util';
import { openNodeDevice } from '../../src/cli/node-gpu.ts';
import { createStorage } from '../../src/engine/buffers.ts';
import { KernelContext, Program, whole } from '../../src/engine/kernels/kernel.ts';
import { recordGemm, type GemmSpec, type GemmVariant } from '../../src/engine/kernels/gemm/gemm.ts';

const { values } = parseArgs({ options: { batch: { type: 'string' }, reps: { type: 'string' }, toggles: { type: 'string' } } });
const B = Number(values.batch ?? 32), reps = Number(values.reps ?? 20), T = 192, D = 768, F = 3072, H = 12, R = B * T;
const toggles = values.toggles ? values.toggles.split(',').map((t) => `enable-dawn-features=${t}`) : [];
const { device, adapterInfo } = await openNodeDevice(toggles);

interface Shape { name: string; M: number; N: number; K: number; batches?: number; a: 'rowmajor' | 'trans'; b: 'rowmajor' | 'trans' }
const shapes: Shape[] = [
  { name: 'qkv x W^T', M: R, N: 3 * D, K: D, a: 'rowmajor', b: 'trans' },
  { name: 'ffn1 x W^T', M: R, N: F, K: D, a: 'rowmajor', b: 'trans' },
  { name: 'ffn2 x W^T', M: R, N: D, K: F, a: 'rowmajor', b: 'trans' },
  { name: 'out x W^T', M: R, N: D, K: D, a: 'rowmajor', b: 'trans' },
  { name: 'ffn1 dX = dy W', M: R, N: D, K: F, a: 'rowmajor', b: 'rowmajor' },
  { name: 'ffn1 dW = dy^T x', M: F, N: D, K: R, a: 'trans', b: 'rowmajor' },
  { name: 'attention scores per head', M: T, N: T, K: 64, batches: B * H, a: 'rowmajor', b: 'trans' },
];
for (const half of [false, true]) {
  for (const s of shapes) {
    const Z = s.batches ?? 1;
    const bytes = (n: number): number => Math.ceil((n * (half ? 2 : 4)) / 256) * 256;
    const A = createStorage(device, 'bench/A', bytes(s.M * s.K * Z)), Bm = createStorage(device, 'bench/B', bytes(s.K * s.N * Z)), C = createStorage(device, 'bench/C', bytes(s.M * s.N * Z));
    for (const variant of ['tiled', 'direct'] as GemmVariant[]) {
      const ctx = new KernelContext(device, {}, 'gemm-bench');
      const prog = new Program('gemm-bench');
      const spec: GemmSpec = {
        label: s.name, M: s.M, N: s.N, K: s.K, batches: Z, variant,
        A: { buf: whole(A), ...(s.a === 'rowmajor' ? { rs: s.K, cs: 1 } : { rs: 1, cs: s.M }), offB: s.M * s.K },
        B: { buf: whole(Bm), ...(s.b === 'rowmajor' ? { rs: s.N, cs: 1 } : { rs: 1, cs: s.K }), offB: s.K * s.N },
        C: { buf: whole(C), rs: s.N, cs: 1, offB: s.M * s.N }, half: { A: half, B: half, C: half },
      };
      for (let i = 0; i < reps; i++) recordGemm(ctx, prog, spec);
      ctx.finalize();
      const run = async (): Promise<number> => {
        const t0 = performance.now();
        const enc = device.createCommandEncoder({ label: 'gemm-bench' });
        prog.encode(enc);
        device.queue.submit([enc.finish()]);
        await device.queue.onSubmittedWorkDone();
        return (performance.now() - t0) / 1000;
      };
      await run();
      const seconds = Math.min(await run(), await run()) / reps;
      console.log(JSON.stringify({ shape: s.name, M: s.M, N: s.N, K: s.K, batches: Z, storage: half ? 'fp16' : 'fp32', variant, ms: seconds * 1e3, tflops: (2 * s.M * s.N * s.K * Z) / seconds / 1e12, adapter: adapterInfo.description }));
      ctx.destroy();
    }
    for (const b of [A, Bm, C]) b.destroy();
  }
}
device.destroy();
process.exit(0);
