// Lint for the plain-JavaScript projects (`scripts/`, the `.mjs` tools): Node ES modules checked by
// the JavaScript rules; their types are checked by `tsc --checkJs` (each project's typecheck target).
import nx from '@nx/eslint-plugin';

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/javascript'],
  { ignores: ['**/dist', '**/node_modules', '**/.data', '**/tmp', 'eslint.config.mjs'] },
  // Best-effort cleanup (`.catch(() => {})` on a stop that may already have happened) is the idiom here.
  { rules: { '@typescript-eslint/no-empty-function': 'off' } },
];
