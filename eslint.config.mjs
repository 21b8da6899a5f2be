// Lint: type-aware rules (no floating promises: fire-and-forget is written `void …`) and the
// architecture's import boundaries — pure decision code imports no I/O, and only the adapter
// files may import the I/O libraries (as http-proxy-middleware's own config bans express in src/).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const IO_LIBRARIES = [
  { name: 'ioredis', message: 'Only cache/flags adapters (src/**/redis-*.ts) may import ioredis.' },
  { name: 'unleash-client', message: 'Only the Unleash adapter (src/flags/unleash-*.ts) may import unleash-client.' },
  { name: 'http-proxy-middleware', message: 'Only src/proxy/middleware-dispatch.ts (the Express middleware dispatch) may import http-proxy-middleware.' },
  { name: 'undici', message: "Only src/proxy/undici-dispatch.ts (the standalone handler's dispatch) may import undici." },
];
const OTEL = { group: ['@opentelemetry/*'], message: 'Only src/telemetry/ may import the OpenTelemetry SDK.' };
const NODE_IO = ['node:fs', 'node:fs/promises', 'node:http', 'node:https', 'node:net', 'node:child_process', 'fs', 'http', 'https', 'net'].map((name) => ({
  name,
  message: 'Pure domain code (routing decision, route table, bucketing, errors) does no I/O.',
  allowTypeImports: true,
}));
const EXPRESS = { name: 'express', message: 'Express belongs at the edge (src/server/, src/app.ts), not in domain code.', allowTypeImports: true };

export default tseslint.config(
  // test/unleash-server is a separate, test-only package (plain CommonJS that runs a real Unleash server).
  { ignores: ['dist/**', 'node_modules/**', 'examples/legacy-*/**', 'coverage/**', 'test/unleash-server/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: { allowDefaultProject: ['*.mjs', 'scripts/*.mjs'] }, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's describe/it return promises the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/only-throw-error': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { paths: IO_LIBRARIES, patterns: [OTEL] }] },
  },
  {
    files: ['src/proxy/middleware-dispatch.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { paths: IO_LIBRARIES.filter((l) => l.name !== 'http-proxy-middleware'), patterns: [OTEL] }] },
  },
  {
    files: ['src/proxy/undici-dispatch.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { paths: IO_LIBRARIES.filter((l) => l.name !== 'undici'), patterns: [OTEL] }] },
  },
  {
    files: ['src/**/redis-*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { paths: IO_LIBRARIES.filter((l) => l.name !== 'ioredis'), patterns: [OTEL] }] },
  },
  {
    files: ['src/flags/unleash-*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { paths: IO_LIBRARIES.filter((l) => l.name !== 'unleash-client'), patterns: [OTEL] }] },
  },
  {
    // Cache decisions (key, storability, freshness, purge scopes) are pure functions.
    files: ['src/cache/cache-key.ts', 'src/cache/cache-policy.ts', 'src/cache/cache-purge.ts', 'src/cache/entry-codec.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { paths: [...IO_LIBRARIES, ...NODE_IO, EXPRESS], patterns: [OTEL] }] },
  },
  {
    files: ['src/telemetry/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: IO_LIBRARIES,
          patterns: [{ group: ['@opentelemetry/sdk-*', '@opentelemetry/instrumentation*', '@opentelemetry/exporter-*'], message: 'Only src/telemetry/otel-sdk.ts starts the SDK; the rest use @opentelemetry/api.' }],
        },
      ],
    },
  },
  {
    files: ['src/telemetry/otel-sdk.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { paths: IO_LIBRARIES }] },
  },
  {
    files: ['src/routing/**/*.ts', 'src/flags/bucketing.ts', 'src/errors/**/*.ts', 'src/config/validate-flags.ts', 'src/config/schema-partition.ts', 'src/config/flags-schema.ts', 'src/proxy/forwarded-headers.ts', 'src/proxy/upstream-limiter.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { paths: [...IO_LIBRARIES, ...NODE_IO, EXPRESS], patterns: [OTEL] }] },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // Test bodies read parsed JSON from real responses; typing every field adds nothing.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  { files: ['**/*.mjs'], languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } } },
);
