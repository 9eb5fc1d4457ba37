// Builds libs/broker-client as the publishable npm package @broker/broker-client into
// dist/packages/broker-client: ESM and CommonJS bundles (esbuild; the workspace libs it uses,
// contracts and bus-protocol, are bundled in; ioredis, @hpke/*, zod stay dependencies), type
// declarations (tsc, workspace aliases rewritten to relative paths), package.json, README, LICENSE.
// The `/nest` entry imports the main entry (one BrokerClient class for DI) and needs @nestjs/common.
// Usage: node tools/build/build-client-package.mjs   (then: cd dist/packages/broker-client && npm pack)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { REPO } from './check-dist.mjs';
import { workspaceAliases } from './build-app.mjs';

const LIB = path.join(REPO, 'libs', 'broker-client');
export const PACKAGE_DIR = path.join(REPO, 'dist', 'packages', 'broker-client');

function manifest() {
  return JSON.parse(fs.readFileSync(path.join(LIB, 'package.json'), 'utf8'));
}

async function bundles() {
  const pkg = manifest();
  const external = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})];
  for (const format of /** @type {const} */ (['cjs', 'esm'])) {
    const ext = format === 'cjs' ? 'cjs' : 'mjs';
    /** @type {import('esbuild').BuildOptions} */
    const common = { bundle: true, platform: 'node', target: 'node20', format, external, tsconfig: path.join(REPO, 'tsconfig.base.json'), logLevel: 'warning', legalComments: 'none' };
    await build({ ...common, entryPoints: [path.join(LIB, 'src', 'index.ts')], outfile: path.join(PACKAGE_DIR, 'dist', `index.${ext}`) });
    await build({
      ...common,
      entryPoints: [path.join(LIB, 'src', 'nest.ts')],
      outfile: path.join(PACKAGE_DIR, 'dist', `nest.${ext}`),
      plugins: [
        {
          // The Nest module uses the package's own BrokerClient, never a second copy of it.
          name: 'main-entry',
          setup(b) {
            b.onResolve({ filter: /\/broker-client$/ }, (args) =>
              path.resolve(args.resolveDir, args.path) === path.join(LIB, 'src', 'lib', 'broker-client') ? { path: `./index.${ext}`, external: true } : undefined,
            );
          },
        },
      ],
    });
  }
}

// Declarations for the package's entries and everything they reach in the workspace libs.
function declarations() {
  const out = path.join(PACKAGE_DIR, 'types');
  const config = path.join(PACKAGE_DIR, 'tsconfig.types.json');
  fs.writeFileSync(
    config,
    JSON.stringify({
      extends: path.join(REPO, 'tsconfig.base.json'),
      files: [path.join(LIB, 'src', 'index.ts'), path.join(LIB, 'src', 'nest.ts')],
      compilerOptions: { declaration: true, emitDeclarationOnly: true, sourceMap: false, outDir: out, rootDir: REPO, types: ['node'], typeRoots: [path.join(REPO, 'node_modules', '@types')] },
    }),
  );
  const tsc = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', config], { cwd: REPO, stdio: 'inherit' });
  fs.rmSync(config);
  if (result.status !== 0) throw new Error(`tsc (declarations) failed with ${result.status ?? result.signal}`);
  const aliases = workspaceAliases();
  for (const file of walk(out).filter((f) => f.endsWith('.d.ts'))) {
    const source = fs.readFileSync(file, 'utf8');
    const next = source.replace(/(from |import\()(['"])(@broker\/[a-z0-9-]+)\2/g, (_whole, lead, quote, alias) => {
      const target = aliases.get(alias);
      if (!target) throw new Error(`${path.relative(REPO, file)}: ${alias} is not a workspace alias`);
      let rel = path.relative(path.dirname(file), path.join(out, target)).split(path.sep).join('/');
      if (!rel.startsWith('.')) rel = `./${rel}`;
      return `${lead}${quote}${rel}${quote}`;
    });
    if (next !== source) fs.writeFileSync(file, next);
  }
}

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** Builds the package; returns its directory. */
export async function buildClientPackage() {
  fs.rmSync(PACKAGE_DIR, { recursive: true, force: true });
  fs.mkdirSync(PACKAGE_DIR, { recursive: true });
  await bundles();
  declarations();
  for (const file of ['package.json', 'README.md', 'LICENSE']) fs.copyFileSync(path.join(LIB, file), path.join(PACKAGE_DIR, file));
  // What the package may load at run time: Node built-ins and its declared dependencies, nothing of the workspace.
  for (const file of walk(path.join(PACKAGE_DIR, 'dist'))) {
    const source = fs.readFileSync(file, 'utf8');
    if (/["']@broker\//.test(source)) throw new Error(`${path.relative(REPO, file)} still refers to a workspace alias`);
    if (/require\(["']@nestjs\//.test(source) && !path.basename(file).startsWith('nest.')) throw new Error(`${path.relative(REPO, file)} needs NestJS`);
  }
  return PACKAGE_DIR;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await buildClientPackage();
  } catch (err) {
    process.stderr.write(`build of the broker-client package failed:\n${err.message}\n`);
    process.exit(1);
  }
}
