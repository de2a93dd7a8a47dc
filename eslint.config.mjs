import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layers of DESIGN.md: what each folder of src/ must not import. common/ imports nothing of
 * ours; config/ only common/; a service imports common/ and config/, never another service;
 * commands/ wire them and cli.ts picks a command.
 */
const SERVICES = ['exporter', 'detector', 'bridge', 'check'];
const FORBIDDEN = {
  common: ['config', ...SERVICES, 'commands', 'cli'],
  config: [...SERVICES, 'commands', 'cli'],
  ...Object.fromEntries(
    SERVICES.map((service) => [service, [...SERVICES.filter((s) => s !== service), 'commands', 'cli']]),
  ),
  commands: ['cli'],
};

/**
 * One block per folder and depth: every import in src/ is relative, so from a file `depth` folders
 * below src/ another top-level folder is `../` repeated `depth` times.
 */
function layerRules(maxDepth = 5) {
  return Object.entries(FORBIDDEN).flatMap(([layer, forbidden]) =>
    Array.from({ length: maxDepth }, (_, i) => ({
      files: [`src/${layer}/${'*/'.repeat(i)}*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              {
                regex: `^(\\.\\./){${i + 1}}(${forbidden.join('|')})(/|$)`,
                message: `layers (DESIGN.md): ${layer}/ must not import ${forbidden.join(', ')}.`,
              },
            ],
          },
        ],
      },
    })),
  );
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  ...layerRules(),
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        __dirname: 'readonly',
        console: 'readonly',
        fetch: 'readonly',
        AbortSignal: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
