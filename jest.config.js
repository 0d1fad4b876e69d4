/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // CommonJS output turns the .mesh artifact's dynamic import() calls into require(), which
    // jest's module system supports without --experimental-vm-modules.
    '^.+\\.ts$': ['ts-jest', { isolatedModules: true, tsconfig: { module: 'commonjs', moduleResolution: 'node' } }],
  },
  // Kills child processes (gateways, redis-servers) a timed-out test or a crashed worker left running.
  globalSetup: '<rootDir>/test/globalSetup.ts',
  globalTeardown: '<rootDir>/test/globalTeardown.ts',
  // Only a guard against a hang (tests wait with deadlines that name what did not arrive): a test or hook
  // that starts gateways, PGlite or child processes can take over a minute on a busy machine, and
  // must not fail a correct build for it.
  testTimeout: 120000,
  maxWorkers: 2,
};
