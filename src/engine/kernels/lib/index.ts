// WGSL libraries every engine shader may list in ShaderSource.libraries (WGSL has no imports: they are prepended).
import dropout from './dropout.wgsl?raw';
import half from './half.wgsl?raw';
import rowReduce from './row-reduce.wgsl?raw';

export const ENGINE_LIBS: Readonly<Record<string, string>> = { dropout, half, 'row-reduce': rowReduce };
