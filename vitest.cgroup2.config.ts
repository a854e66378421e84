import { defineConfig } from 'vitest/config';

// Tests that move cgroup controllers between v1 and cgroup2 for the whole host (`npm run test:cgroup2`): never beside
// the main suite, whose limit tests need the controllers where the host keeps them; one file at a time.
export default defineConfig({
  test: {
    include: ['test/host-global/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    maxWorkers: 1,
  },
});
