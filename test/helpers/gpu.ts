// Test-side WebGPU: one dawn.node device per test file (SwiftShader here, see .ci/run), plus tolerance checks
// that print the worst element, as DESIGN.md's verification section asks.
import { openNodeDevice } from '../../src/cli/node-gpu.ts';
import type { EngineDevice } from '../../src/engine/device.ts';

let shared: Promise<EngineDevice> | undefined;

export function testDevice(): Promise<EngineDevice> {
  process.env.TUNELAB_SWIFTSHADER ??= '1';
  shared ??= openNodeDevice();
  return shared;
}

export interface CloseReport { ok: boolean; worst: string; maxAbs: number; count: number }

/** |got - want| <= atol + rtol * |want| elementwise; the report names the worst element relative to its bound. */
export function compareClose(name: string, got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number): CloseReport {
  if (got.length !== want.length) return { ok: false, worst: `${name}: length ${got.length} != ${want.length}`, maxAbs: Infinity, count: got.length };
  let worstRatio = -1, worstIdx = -1, maxAbs = 0, bad = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    const err = Math.abs(g - w);
    const bound = atol + rtol * Math.abs(w);
    const ratio = Number.isFinite(err) ? err / bound : Infinity;
    if (!(err <= bound)) bad++;
    if (ratio > worstRatio || Number.isNaN(g)) { worstRatio = Number.isNaN(g) ? Infinity : ratio; worstIdx = i; }
    if (err > maxAbs || Number.isNaN(err)) maxAbs = Number.isNaN(err) ? Infinity : err;
  }
  const worst = worstIdx < 0 ? `${name}: empty` : `${name}: worst [${worstIdx}] got ${got[worstIdx]} want ${want[worstIdx]} (err ${Math.abs(got[worstIdx]! - want[worstIdx]!).toExponential(2)}, ${worstRatio.toFixed(3)} of bound), ${bad}/${want.length} out of tolerance`;
  return { ok: bad === 0, worst, maxAbs, count: want.length };
}

/** Seeded uniform floats in [lo, hi) (mulberry32). */
export function seededFloats(seed: number, n: number, lo = -1, hi = 1): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}
