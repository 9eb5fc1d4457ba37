// The bench is TypeScript (the root rules, type-aware) plus three plain-JavaScript processes it
// spawns (fake provider, hello-world server, HTTP load generator; kept `.mjs` so each starts as bare
// Node with no transpiler in its process). The root config skips `.mjs`; here they get the scripts'
// JavaScript rules, and their types are checked by `tsconfig.scripts.json` (checkJs).
import root from '../../eslint.config.mjs';
import scripts from '../../eslint.scripts.config.mjs';

const isGlobalIgnore = (entry) => Object.keys(entry).length === 1 && Array.isArray(entry.ignores);

export default [
  ...root.map((entry) =>
    isGlobalIgnore(entry) ? { ignores: entry.ignores.filter((glob) => glob !== '**/*.mjs') } : entry,
  ),
  ...scripts.filter((entry) => !isGlobalIgnore(entry)),
  { ignores: ['eslint.config.mjs'] },
];
