// Which WGSL a kernel module gets: libraries prepended, and on a device with `shader-f16` the native-f16 half library
// with `enable f16;` first. (The native path itself can only compile where an adapter offers shader-f16: SwiftShader
// does not; test/bench/f16-check.ts runs it on NVIDIA, see test/bench/gpu-checks.sh.)
import { describe, expect, it } from 'vitest';
import { assembleShader, KernelContext, type ShaderSource } from '../../src/engine/kernels/kernel.ts';
import { ENGINE_LIBS } from '../../src/engine/kernels/lib/index.ts';
import { testDevice } from '../helpers/gpu.ts';

const withHalf: ShaderSource = { name: 'k', code: '@compute @workgroup_size(1) fn main() {}', libraries: ['dropout', 'half'] };
const withoutHalf: ShaderSource = { name: 'k2', code: '@compute @workgroup_size(1) fn main() {}', libraries: ['dropout'] };

describe('shader assembly', () => {
  it('portable: pack2x16float/unpack2x16float, no f16 directive', () => {
    const code = assembleShader(withHalf, ENGINE_LIBS, false);
    expect(code).not.toContain('enable f16');
    expect(code).toContain('unpack2x16float');
    expect(code.indexOf(ENGINE_LIBS.dropout!)).toBeLessThan(code.indexOf(ENGINE_LIBS.half!));
  });

  it('shader-f16: the native library, `enable f16;` before every declaration', () => {
    const code = assembleShader(withHalf, ENGINE_LIBS, true);
    expect(code.startsWith('enable f16;\n')).toBe(true);
    expect(code).toContain(ENGINE_LIBS['half-f16']!);
    expect(code).not.toContain(ENGINE_LIBS.half!);
    expect(code).toContain('bitcast<vec2<f16>>');
    // Same functions under both libraries: every kernel calls them by name.
    for (const fn of ['fn half_bits(', 'fn pack_half2(', 'fn half_at(']) {
      expect(ENGINE_LIBS.half).toContain(fn);
      expect(ENGINE_LIBS['half-f16']).toContain(fn);
    }
  });

  it('a module without 16-bit storage gets no f16 directive even with shader-f16', () => {
    expect(assembleShader(withoutHalf, ENGINE_LIBS, true)).not.toContain('enable f16');
  });

  it('an unknown library is named in the error', () => {
    expect(() => assembleShader({ ...withHalf, libraries: ['nope'] }, ENGINE_LIBS, false)).toThrow(/shader k: unknown WGSL library nope/);
  });

  it('the kernel context follows the device: native f16 only where shader-f16 was granted', async () => {
    const { device } = await testDevice();
    const ctx = new KernelContext(device, {}, 'assembly-test');
    expect(ctx.shaderF16).toBe(device.features.has('shader-f16'));
    ctx.destroy();
  });
});
