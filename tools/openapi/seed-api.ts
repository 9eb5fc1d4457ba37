// `npm run openapi`, first step: writes apps/gateway/src/openapi/seed-api.generated.json, the seed
// operations and deduplicated response schemas the gateway's OpenAPI document uses, from
// e2e/fixtures/seed-*-api.json (libs/testing/src/lib/openapi-seeds/seed-components.ts).
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import {
  loadSeedFixtures,
  SEED_API_FILE,
  seedApi,
  seedApiJson,
} from '../../libs/testing/src/lib/openapi-seeds/seed-components';

writeFileSync(SEED_API_FILE, seedApiJson(seedApi(loadSeedFixtures())));
process.stdout.write(`wrote ${relative(process.cwd(), SEED_API_FILE)}\n`);
