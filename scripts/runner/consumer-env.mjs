// `node scripts/runner/consumer-env.mjs`: the settings of the local `demo-consumer` while `npm start`
// runs (same BROKER_DATA_DIR), as shell exports for libs/broker-client's README example: its name,
// its own Redis user's URL, the token-broker's public key and the events public keys.
import fs from 'node:fs';
import { busEnvForApp } from '../lib/bus-keys.mjs';
import { localPassword } from '../lib/redis-acl.mjs';
import { runnerSettings } from './settings.mjs';

const settings = runnerSettings();
try {
  const secrets = JSON.parse(fs.readFileSync(settings.secretsFile, 'utf8'));
  const { redisPort } = JSON.parse(fs.readFileSync(settings.stateFile, 'utf8'));
  if (!redisPort) throw new Error('this data folder uses a Redis of its own (REDIS_URL): its users are the operator’s');
  const env = busEnvForApp('gateway', secrets);
  const broker = env.BUS_SERVICE_PUBLIC_KEYS.split(',')
    .find((e) => e.startsWith('token-broker='))
    .slice('token-broker='.length);
  const password = localPassword(secrets.REDIS_ACL_SECRET, 'demo-consumer');
  process.stdout.write(
    `export SERVICE_NAME='demo-consumer'\nexport REDIS_URL='redis://demo-consumer:${password}@127.0.0.1:${redisPort}'\n` +
      `export BROKER_PUBLIC_KEY='${broker}'\nexport EVENTS_PUBLIC_KEYS='${env.EVENTS_PUBLIC_KEYS}'\nexport BUS_PREFIX='${settings.busPrefix}'\n`,
  );
} catch (err) {
  process.stderr.write(`no local default found in ${settings.dataDir} (run npm start first): ${err.message}\n`);
  process.exit(1);
}
