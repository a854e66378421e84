import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Host-global cgroup tests move controllers under every other test's feet: they run alone (vitest.cgroup2.config.ts).
    exclude: [...configDefaults.exclude, 'test/host-global/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // End-to-end tests mount overlays and create namespaces: keep files from starving each other on 2 cores.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
