import { z } from 'zod';
import { ListProvidersQuery, PROVIDER_ORDER_BY, PROVIDER_TYPES } from '@broker/contracts';
import { ExternalOAuthHttpError } from './external-oauth-error.filter';

/** A query parameter given once arrives as a string, repeated as an array: always an array here. */
const repeated = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]), z.array(item).optional());

const schema = z.object({
  ids: repeated(z.string().min(1).max(100)),
  types: repeated(z.enum(PROVIDER_TYPES, { message: `must be one of ${PROVIDER_TYPES.join(', ')}` })),
  host: repeated(z.string().min(1).max(255)),
  orderBy: z.enum(PROVIDER_ORDER_BY, { message: `must be one of ${PROVIDER_ORDER_BY.join(', ')}` }).optional(),
});

/** Validates the list query; a bad value is a 422 naming each bad parameter. */
export function parseListProvidersQuery(raw: unknown): ListProvidersQuery {
  const parsed = schema.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  const errorFields = parsed.error.issues.map((i) => ({ name: String(i.path[0]), message: i.message }));
  throw new ExternalOAuthHttpError(422, 'Invalid query parameters.', errorFields);
}
