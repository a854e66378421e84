import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // End-to-end tests mount overlays and create namespaces: keep files from starving each other on 2 cores.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
