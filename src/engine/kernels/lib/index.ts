// WGSL libraries every engine shader may list in ShaderSource.libraries (WGSL has no imports: they are prepended).
import dropout from './dropout.wgsl?raw';
import half from './half.wgsl?raw';
import halfF16 from './half-f16.wgsl?raw';
import rowReduce from './row-reduce.wgsl?raw';

export const ENGINE_LIBS: Readonly<Record<string, string>> = { dropout, half, 'half-f16': halfF16, 'row-reduce': rowReduce };

/** Where the device has `shader-f16`, a shader listing `half` gets this library instead (same functions, native f16). */
export const HALF_NATIVE: Readonly<Record<string, string>> = { half: 'half-f16' };
