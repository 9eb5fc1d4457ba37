// Webhook endpoints from the admin CLI (the same domain service as the API): add one (its secret is
// printed this once), list them, read an endpoint's delivery log.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { WEBHOOK_EVENT_TYPES, WebhookEventType } from '@broker/contracts';
import { EnvelopeCipher, parseKeyring } from '@broker/crypto';
import { REGISTRY_SCHEMA, SecureConfigsService, WebhooksService } from '@broker/registry';
import { domainDataSourceOptions, migrateDomainSchema } from '@broker/service-runtime';

export const WEBHOOK_COMMANDS = ['webhook-add', 'webhook-list', 'webhook-deliveries'] as const;

export const WEBHOOK_USAGE = `  webhook-add   --org ID --url URL [--events a,b,...] [--name DESCRIPTION]
                registers a webhook endpoint; prints it with its signing secret (shown only this once)
  webhook-list  --org ID
  webhook-deliveries --org ID --id ENDPOINT_ID   the endpoint's delivery log, newest first
events: ${WEBHOOK_EVENT_TYPES.join(', ')}`;

/** The encryption keyring: ENCRYPTION_KEYS (and ENCRYPTION_ACTIVE_KEY_ID), else the local default's. */
function keyring(): ReturnType<typeof parseKeyring> {
  let keys = process.env['ENCRYPTION_KEYS'];
  let active = process.env['ENCRYPTION_ACTIVE_KEY_ID'];
  if (!keys) {
    try {
      const secrets = JSON.parse(
        readFileSync(join(__dirname, '..', '..', '.data', 'secrets.json'), 'utf8'),
      ) as { ENCRYPTION_KEYS?: string; ENCRYPTION_ACTIVE_KEY_ID?: string };
      keys = secrets.ENCRYPTION_KEYS;
      active ??= secrets.ENCRYPTION_ACTIVE_KEY_ID;
    } catch {
      // no local default
    }
  }
  if (!keys) throw new Error('ENCRYPTION_KEYS is not set (it must be the one the provider-registry uses)');
  return parseKeyring(keys, active);
}

/** Runs one webhook command against the registry schema. `localDefault`: the database is npm start's (loopback receivers allowed, as there). */
export async function webhookCommand(
  command: string,
  values: Record<string, string | undefined>,
  databaseUrl: string,
  localDefault: boolean,
): Promise<void> {
  const org = values['org'];
  if (!org) throw new Error('--org is required');
  const ds = await new DataSource(
    domainDataSourceOptions(databaseUrl, REGISTRY_SCHEMA, 'admin-cli', 2),
  ).initialize();
  try {
    await migrateDomainSchema(ds, REGISTRY_SCHEMA.schema);
    const loopback =
      (process.env['EGRESS_ALLOW_LOOPBACK'] ?? (localDefault ? 'true' : 'false')) === 'true' &&
      process.env['NODE_ENV'] !== 'production';
    // The ports npm start lets the worker reach locally: 443, the demo provider's and the demo receiver's.
    const ports = (process.env['EGRESS_ALLOWED_PORTS'] ?? (localDefault ? '443,3104,8090' : '443'))
      .split(',')
      .map(Number);
    const webhooks = new WebhooksService(ds, new SecureConfigsService(ds, new EnvelopeCipher(keyring())), {
      allowLoopback: loopback,
      allowedPorts: ports,
    });
    if (command === 'webhook-add') {
      if (!values['url']) throw new Error('--url is required');
      const events = values['events']
        ?.split(',')
        .map((e) => e.trim())
        .filter(Boolean);
      const unknown = events?.filter((e) => !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(e)) ?? [];
      if (unknown.length) throw new Error(`unknown events: ${unknown.join(', ')}`);
      const created = await webhooks
        .create(org, {
          url: values['url'],
          description: values['name'],
          event_types: events as WebhookEventType[] | undefined,
        })
        .catch((err: unknown) => {
          const fields = (err as { getError?: () => { fields?: { message: string }[] } }).getError?.().fields;
          throw new Error(
            fields?.length
              ? `the URL is refused: ${fields.map((f) => f.message).join('; ')}`
              : (err as Error).message,
          );
        });
      console.log(JSON.stringify(created, null, 2));
      console.error(
        'store the secret now: it is not shown again (rotate it with POST /api/v2/webhook-endpoints/{id}/rotate-secret)',
      );
    } else if (command === 'webhook-list') {
      console.log(JSON.stringify(await webhooks.list(org), null, 2));
    } else {
      if (!values['id']) throw new Error('--id is required');
      console.log(JSON.stringify(await webhooks.deliveries(org, values['id'], 50), null, 2));
    }
  } finally {
    await ds.destroy();
  }
}
