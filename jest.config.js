/** Jest runs the TypeScript sources as native ESM; swc only strips the types. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2023' }, module: { type: 'es6' } }],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // The kit by its package name, as the example imports it: its sources, as 'npm run example:courses' does.
  testEnvironmentOptions: { customExportConditions: ['gatehouse-source', 'node', 'node-addons'] },
  globalSetup: '<rootDir>/test/support/global_setup.ts',
  reporters: ['default', '<rootDir>/test/support/summary_reporter.js'],
  testTimeout: 30000,
  // Two cores: one worker per core, each test file with its own database and Redis prefix.
  maxWorkers: 2,
};
