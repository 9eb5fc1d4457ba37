// Writes dist/apps/<app>/main.js, a stable entry point in front of the nested tsc output
// (tsc keeps the workspace layout because apps compile the libs they import).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const app = process.argv[2];
if (!app) throw new Error('usage: write-entry.mjs <app>');
const out = join('dist', 'apps', app);
writeFileSync(join(out, 'main.js'), `'use strict';\nrequire('./apps/${app}/src/main');\n`);
