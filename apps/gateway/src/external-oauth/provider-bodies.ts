import { z } from 'zod';
import {
  CreateProviderRequest,
  PROVIDER_STATUSES,
  PROVIDER_TYPES,
  UpdateProviderRequest,
} from '@broker/contracts';
import { ExternalOAuthHttpError } from './external-oauth-error.filter';

const text = (max: number) =>
  z
    .string({ message: 'must be a string' })
    .trim()
    .min(1, { message: 'must not be empty' })
    .max(max, { message: `must be at most ${max} characters` });
const scope = z
  .string({ message: 'must be a string' })
  .min(1, { message: 'must not be empty' })
  .max(512, { message: 'must be at most 512 characters' })
  .regex(/^\S+$/, { message: 'must not contain spaces (give one scope per item)' });
const optionalUrl = z
  .string({ message: 'must be a string' })
  .max(2048, { message: 'must be at most 2048 characters' })
  .optional();
/** A GitHub App's slug (the `{slug}` of `github.com/apps/{slug}`). */
const appSlug = z.string({ message: 'must be a string' }).regex(/^[a-z0-9][a-z0-9-]{0,99}$/, {
  message: 'must be a GitHub App slug (lower-case letters, digits and hyphens)',
});
/** Where a browser installs the app: an https URL (http only on loopback, for local test providers). */
const appInstallUrl = z
  .string({ message: 'must be a string' })
  .max(2048, { message: 'must be at most 2048 characters' })
  .refine((v) => isInstallUrl(v), { message: 'must be an https URL without credentials' });

function isInstallUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  if (url.username || url.password) return false;
  return (
    url.protocol === 'https:' ||
    (url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))
  );
}

export const createSchema = z.strictObject(
  {
    clientId: text(512),
    clientSecret: z
      .string({ message: 'must be a string' })
      .min(1, { message: 'must not be empty' })
      .max(8192, { message: 'must be at most 8192 characters' }),
    name: text(255),
    type: z.enum(PROVIDER_TYPES, { message: `must be one of ${PROVIDER_TYPES.join(', ')}` }),
    scopes: z
      .array(scope, { message: 'must be an array of strings' })
      .max(100, { message: 'at most 100 scopes' })
      .optional(),
    skipConsent: z.boolean({ message: 'must be true or false' }).optional(),
    host: text(255).optional(),
    baseUrl: optionalUrl,
    tenant: text(255).optional(),
    issuer: optionalUrl,
    endpoints: z
      .strictObject(
        {
          authorizationUrl: optionalUrl,
          tokenUrl: optionalUrl,
          userinfoUrl: optionalUrl,
          revocationUrl: optionalUrl,
          deviceAuthorizationUrl: optionalUrl,
        },
        { message: 'must be an object' },
      )
      .optional(),
    appSlug: appSlug.optional(),
    appInstallUrl: appInstallUrl.optional(),
  },
  { message: 'must be a JSON object' },
);

export const updateSchema = z.strictObject(
  {
    clientSecret: z
      .string({ message: 'must be a string' })
      .min(1, { message: 'must not be empty' })
      .max(8192, { message: 'must be at most 8192 characters' })
      .optional(),
    name: text(255).optional(),
    skipConsent: z.boolean({ message: 'must be true or false' }).optional(),
    status: z
      .enum(PROVIDER_STATUSES, { message: `must be one of ${PROVIDER_STATUSES.join(', ')}` })
      .optional(),
    appSlug: appSlug.nullable().optional(),
    appInstallUrl: appInstallUrl.nullable().optional(),
  },
  { message: 'must be a JSON object' },
);

/** Every problem of a body as seed 000 `errorFields`: dotted field path and what is wrong. */
function errorFields(error: z.ZodError): { name: string; message: string }[] {
  const fields: { name: string; message: string }[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const prefix = issue.path.length ? `${issue.path.join('.')}.` : '';
      for (const key of issue.keys) fields.push({ name: `${prefix}${key}`, message: 'is not a known field' });
      continue;
    }
    const name = issue.path.join('.') || 'body';
    const missing = issue.code === 'invalid_type' && issue.input === undefined;
    fields.push({ name, message: missing ? 'is required' : issue.message });
  }
  return fields;
}

export function parseCreateProvider(body: unknown): CreateProviderRequest {
  const parsed = createSchema.safeParse(body ?? undefined);
  if (parsed.success) return parsed.data as CreateProviderRequest;
  throw new ExternalOAuthHttpError(422, 'Invalid provider.', errorFields(parsed.error));
}

export function parseUpdateProvider(body: unknown): UpdateProviderRequest {
  const parsed = updateSchema.safeParse(body ?? undefined);
  if (!parsed.success)
    throw new ExternalOAuthHttpError(422, 'Invalid provider update.', errorFields(parsed.error));
  if (Object.keys(parsed.data).length === 0) {
    throw new ExternalOAuthHttpError(
      422,
      'Nothing to update: give clientSecret, name, skipConsent, status, appSlug or appInstallUrl.',
      [],
    );
  }
  return parsed.data;
}

/** Path ids are UUIDs; anything else is a 422 naming the parameter (never a lookup). */
export function parseId(value: string, name: string): string {
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value))
    return value.toLowerCase();
  throw new ExternalOAuthHttpError(422, 'Invalid path parameter.', [{ name, message: 'must be a UUID' }]);
}

const jobSchema = z.strictObject(
  { type: z.enum(['STATS'], { message: 'must be STATS' }) },
  { message: 'must be a JSON object' },
);

export function parseCreateJob(body: unknown): { type: 'STATS' } {
  const parsed = jobSchema.safeParse(body ?? undefined);
  if (parsed.success) return parsed.data;
  throw new ExternalOAuthHttpError(422, 'Invalid job.', errorFields(parsed.error));
}
