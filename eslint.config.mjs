import nx from '@nx/eslint-plugin';

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', '**/.data', '**/tmp', '**/*.cjs', '**/*.mjs'] },
  {
    files: ['**/*.ts'],
    rules: {
      // Apps never import apps; libs never import apps; contracts import nothing of ours;
      // the testing lib is only for tests.
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:contracts', 'type:bus', 'type:crypto', 'type:runtime', 'type:auth-kit', 'type:domain', 'type:adapters', 'type:client', 'type:egress', 'type:workflows'] },
            // Cross-domain work (provider deletion, key rotation, upstream revocation, job dispatch):
            // may use several domains; only apps use it, so no domain ever reaches back up.
            { sourceTag: 'type:workflows', onlyDependOnLibsWithTags: ['type:contracts', 'type:bus', 'type:crypto', 'type:runtime', 'type:auth-kit', 'type:domain', 'type:adapters', 'type:egress'] },
            { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:contracts', 'type:bus', 'type:crypto', 'type:runtime', 'type:auth-kit', 'type:adapters', 'type:egress'] },
            // The verification kit checks tokens; it never issues, grants or writes identities, so it
            // never reaches into a domain (the identity domain imports the kit, not the reverse).
            { sourceTag: 'type:auth-kit', onlyDependOnLibsWithTags: ['type:contracts', 'type:bus', 'type:runtime'] },
            // Apps that only verify the broker's tokens (gateway, provider-registry) take the kit, never the identity domain.
            { sourceTag: 'verifies:only', notDependOnLibsWithTags: ['domain:identity'] },
            { sourceTag: 'type:adapters', onlyDependOnLibsWithTags: ['type:contracts', 'type:egress'] },
            { sourceTag: 'type:egress', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:client', onlyDependOnLibsWithTags: ['type:contracts', 'type:bus'] },
            { sourceTag: 'type:runtime', onlyDependOnLibsWithTags: ['type:contracts', 'type:bus', 'type:crypto'] },
            { sourceTag: 'type:crypto', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:bus', onlyDependOnLibsWithTags: ['type:contracts', 'type:bus'] },
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: [] },
            // Developer tools (benchmarks, manifest checks) drive the whole system from outside.
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['*'] },
          ],
        },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // Type-aware rules: a promise nobody awaits or catches loses its error (and, on the token path,
    // its ordering); a promise handed where a callback's result is ignored does the same; a switch
    // over a union that misses a member falls through silently when the union grows.
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
    },
  },
  {
    // Test fakes answer HTTP with async handlers; a failure there fails the test that waits on it.
    files: ['**/*.spec.ts', '**/test/**/*.ts'],
    rules: { '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }] },
  },
  {
    // Tests may use the testing lib and any lib they exercise.
    files: ['**/*.spec.ts', '**/test/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          depConstraints: [{ sourceTag: '*', onlyDependOnLibsWithTags: ['*'] }],
        },
      ],
    },
  },
];
