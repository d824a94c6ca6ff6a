import { defineConfig } from 'vitest/config';

// Tests run in Node; WebGPU comes from dawn.node on SwiftShader here (TUNELAB_SWIFTSHADER=1, see src/cli/node-gpu.ts).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    env: { TUNELAB_SWIFTSHADER: '1' },
    // Two cores: GPU tests on SwiftShader are CPU-bound; more parallel files would only slow each other down.
    maxWorkers: 2,
  },
});
