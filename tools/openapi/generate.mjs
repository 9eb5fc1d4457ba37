// `npm run openapi`, last step: writes the gateway's OpenAPI document to docs/openapi.json from the
// built gateway (dist/apps/gateway; the npm script first regenerates the seed schemas,
// tools/openapi/seed-components.ts, then builds the gateway). Nest's dependency injection needs the
// decorator metadata tsc emits, which tsx/esbuild do not, so this runs the compiled code.
// apps/gateway/test/openapi.spec.ts regenerates both files from the sources and fails when a
// committed one differs.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const { gatewayOpenApiJson } = require(path.join(REPO, 'dist/apps/gateway/apps/gateway/src/openapi/openapi-json.js'));

const target = path.join(REPO, 'docs', 'openapi.json');
writeFileSync(target, await gatewayOpenApiJson());
process.stdout.write(`wrote ${path.relative(REPO, target)}\n`);
