import { z } from 'zod';
import { LIST_ORDERS } from './oauth-setups';
import { WEBHOOK_EVENT_TYPES } from './webhooks';

/**
 * Request schemas of the seed 002 and webhook surfaces: the gateway answers their problems as a
 * 400 naming each field, and the registry parses bus payloads with the same schemas (a bus caller
 * other than the gateway may send anything).
 */
const text = (max: number) =>
  z.string({ message: 'must be a string' }).max(max, { message: `must be at most ${max} characters` });
const nonEmpty = (max: number) => text(max).trim().min(1, { message: 'must not be empty' });
const id = z
  .string({ message: 'must be a string' })
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, {
    message: 'must be an id (a UUID)',
  });

/** Custom key-value pairs: up to 50 string values, keys up to 40 characters. */
export const metadataSchema = z
  .record(text(40).min(1, { message: 'keys must not be empty' }), text(500), {
    message: 'must be an object of string values',
  })
  .refine((m) => Object.keys(m).length <= 50, { message: 'must have at most 50 keys' });

/** An absolute https URL without credentials (http only on loopback, for local development). */
export function isAppUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  if (url.username || url.password || url.hash) return false;
  return (
    url.protocol === 'https:' ||
    (url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))
  );
}

export const createOAuthSetupSchema = z.strictObject(
  {
    name: nonEmpty(255),
    description: text(2000).optional(),
    metadata: metadataSchema.optional(),
    redirect_url: text(2048)
      .refine(isAppUrl, {
        message: 'must be an absolute https URL without credentials or fragment (http only on loopback)',
      })
      .optional(),
    is_ephemeral: z.boolean({ message: 'must be true or false' }).optional(),
    provider_auth_credentials_id: text(255).optional(),
    provider_auth_method_id: text(255).optional(),
    config: z.record(z.string(), z.unknown(), { message: 'must be an object' }),
    user_id: nonEmpty(255).optional(),
    expires_at: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
  },
  { message: 'must be a JSON object' },
);

export const updateOAuthSetupSchema = z
  .strictObject(
    {
      name: nonEmpty(255).optional(),
      description: text(2000).optional(),
      metadata: metadataSchema.optional(),
    },
    { message: 'must be a JSON object' },
  )
  .refine((v) => Object.keys(v).length > 0, { message: 'give at least one of name, description, metadata' });

/** The list query as it arrives (strings); `limit` 1–100, at most one of after / before / cursor. */
export const listOAuthSetupsQuerySchema = z
  .strictObject({
    limit: z
      .string({ message: 'must be given once' })
      .regex(/^\d{1,3}$/, { message: 'must be a whole number from 1 to 100' })
      .transform(Number)
      .refine((n) => n >= 1 && n <= 100, { message: 'must be a whole number from 1 to 100' })
      .optional(),
    after: id.optional(),
    before: id.optional(),
    cursor: z
      .string({ message: 'must be given once' })
      .min(1)
      .max(512, { message: 'is not a valid cursor' })
      .optional(),
    order: z.enum(LIST_ORDERS, { message: 'must be asc or desc' }).optional(),
  })
  .refine((q) => [q.after, q.before, q.cursor].filter((v) => v !== undefined).length <= 1, {
    message: 'give at most one of after, before and cursor',
    path: ['cursor'],
  });

/** The list query on the bus (parsed by the gateway already: `limit` is a number there). */
export const listOAuthSetupsBusQuerySchema = z
  .strictObject({
    limit: z.number({ message: 'must be a whole number from 1 to 100' }).int().min(1).max(100).optional(),
    after: id.optional(),
    before: id.optional(),
    cursor: z.string().min(1).max(512, { message: 'is not a valid cursor' }).optional(),
    order: z.enum(LIST_ORDERS, { message: 'must be asc or desc' }).optional(),
  })
  .refine((q) => [q.after, q.before, q.cursor].filter((v) => v !== undefined).length <= 1, {
    message: 'give at most one of after, before and cursor',
    path: ['cursor'],
  });

export const createWebhookEndpointSchema = z.strictObject(
  {
    url: text(2048).refine((v) => URL.canParse(v), { message: 'must be an absolute URL' }),
    description: text(500).optional(),
    event_types: z
      .array(z.enum(WEBHOOK_EVENT_TYPES, { message: `must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}` }))
      .min(1)
      .max(WEBHOOK_EVENT_TYPES.length)
      .optional(),
  },
  { message: 'must be a JSON object' },
);

export const updateWebhookEndpointSchema = z
  .strictObject(
    {
      url: text(2048)
        .refine((v) => URL.canParse(v), { message: 'must be an absolute URL' })
        .optional(),
      description: text(500).nullable().optional(),
      event_types: z
        .array(z.enum(WEBHOOK_EVENT_TYPES, { message: `must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}` }))
        .min(1)
        .max(WEBHOOK_EVENT_TYPES.length)
        .optional(),
      status: z.enum(['enabled', 'disabled'], { message: 'must be enabled or disabled' }).optional(),
    },
    { message: 'must be a JSON object' },
  )
  .refine((v) => Object.keys(v).length > 0, {
    message: 'give at least one of url, description, event_types, status',
  });

/** Every problem of a parse as (field, message), unknown keys named one by one. */
export function schemaProblems(error: z.ZodError): { name: string; message: string }[] {
  const out: { name: string; message: string }[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const prefix = issue.path.length ? `${issue.path.join('.')}.` : '';
      for (const key of issue.keys) out.push({ name: `${prefix}${key}`, message: 'is not a known field' });
      continue;
    }
    const missing = issue.code === 'invalid_type' && issue.input === undefined;
    out.push({ name: issue.path.join('.') || 'body', message: missing ? 'is required' : issue.message });
  }
  return out;
}
