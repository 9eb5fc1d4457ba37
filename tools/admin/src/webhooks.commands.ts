import { BusErrorPayload, WEBHOOK_EVENT_TYPES, WebhookEventType } from '@broker/contracts';
import { BusException } from '@broker/bus';
import { AdminFailure, Command, ID_FLAG, ORG_FLAG, listOf, optional, required } from './command';
import { existingOrg } from './orgs.commands';

/** A refusal of the registry (e.g. the egress guard refusing the URL) as a failure that says why. */
function refused(err: unknown): never {
  if (err instanceof BusException) {
    const { message, fields } = err.getError() as BusErrorPayload;
    throw new AdminFailure(
      fields?.length ? `${message} ${fields.map((f) => `${f.name}: ${f.message}`).join('; ')}` : message,
    );
  }
  throw err;
}

/** Webhook endpoints of an org (the same domain service as `/api/v2/webhook-endpoints`). */
export const webhookCommands: Command[] = [
  {
    name: 'webhook-add',
    summary: 'register a webhook endpoint of an org; prints its signing secret this once',
    usage: `--org ID --url URL [--events a,b,...] [--description TEXT]`,
    details: `events: ${WEBHOOK_EVENT_TYPES.join(', ')} (default: all)\nThe URL passes the worker's egress guard (https, no private address in production).`,
    options: {
      ...ORG_FLAG,
      url: { type: 'string' },
      events: { type: 'string' },
      description: { type: 'string' },
    },
    async run(ctx, values, out) {
      const orgId = required(values, 'org');
      const url = required(values, 'url');
      const events = listOf(optional(values, 'events'), WEBHOOK_EVENT_TYPES, 'event') as
        | WebhookEventType[]
        | undefined;
      await existingOrg(ctx, orgId);
      const created = await (await ctx.webhooks())
        .create(orgId, { url, description: optional(values, 'description'), event_types: events })
        .catch(refused);
      out.print(JSON.stringify(created, null, 2));
      out.note(
        'created; store the secret now: it is not shown again (rotate it with POST /api/v2/webhook-endpoints/{id}/rotate-secret)',
      );
    },
  },
  {
    name: 'webhook-list',
    summary: "list an org's webhook endpoints",
    usage: '--org ID',
    options: { ...ORG_FLAG },
    async run(ctx, values, out) {
      const orgId = required(values, 'org');
      await existingOrg(ctx, orgId);
      out.print(JSON.stringify(await (await ctx.webhooks()).list(orgId), null, 2));
    },
  },
  {
    name: 'webhook-deliveries',
    summary: "an endpoint's delivery log, newest first (the last 50)",
    usage: '--org ID --id ENDPOINT_ID',
    options: { ...ORG_FLAG, ...ID_FLAG },
    async run(ctx, values, out) {
      const orgId = required(values, 'org');
      const id = required(values, 'id');
      await existingOrg(ctx, orgId);
      out.print(
        JSON.stringify(await (await ctx.webhooks()).deliveries(orgId, id, 50).catch(refused), null, 2),
      );
    },
  },
];
