/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // Integration tests start real servers; two workers match the 2-core CI machine.
  maxWorkers: 2,
  // Integration tests wait for real servers on a CI machine that may be loaded several times over:
  // their waits (test/helpers/wait.ts) give up after a minute each, and a test or hook may hold a
  // few of them in a row. A passing test takes only as long as its conditions do.
  testTimeout: 180_000,
};
