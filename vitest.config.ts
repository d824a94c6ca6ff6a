import { defineConfig } from 'vitest/config';

// Tests run in Node; WebGPU comes from dawn.node (test/webgpu-node.ts) on SwiftShader here.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // Two cores: GPU tests on SwiftShader are CPU-bound, running them two at a time is the most that helps.
    maxWorkers: 2,
  },
});
