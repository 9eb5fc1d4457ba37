import { z } from 'zod';
import { ListProvidersQuery, PROVIDER_ORDER_BY, PROVIDER_TYPES } from '@broker/contracts';
import { ExternalOAuthHttpError } from './external-oauth-error.filter';

/**
 * An array parameter: given once (`ids=a`), repeated (`ids=a&ids=b`) or as a comma list
 * (`ids=a,b`), in any mix; always an array here.
 */
const repeated = <T extends z.ZodType>(item: T) =>
  z.preprocess(
    (v) =>
      v === undefined
        ? undefined
        : (Array.isArray(v) ? v : [v]).flatMap((x) =>
            typeof x === 'string' ? x.split(',').map((s) => s.trim()) : [x],
          ),
    z.array(item).max(100, { message: 'at most 100 values' }).optional(),
  );

const schema = z.object({
  // Ids and hosts are matched without regard to case.
  ids: repeated(
    z
      .string()
      .min(1, { message: 'must not be empty' })
      .max(100)
      .transform((id) => id.toLowerCase()),
  ),
  types: repeated(z.enum(PROVIDER_TYPES, { message: `must be one of ${PROVIDER_TYPES.join(', ')}` })),
  host: repeated(
    z
      .string()
      .min(1, { message: 'must not be empty' })
      .max(255)
      .transform((h) => h.toLowerCase()),
  ),
  orderBy: z
    .enum(PROVIDER_ORDER_BY, { message: `must be one of ${PROVIDER_ORDER_BY.join(', ')}` })
    .optional(),
});

/** Validates the list query; a bad value is a 422 naming each bad parameter. */
export function parseListProvidersQuery(raw: unknown): ListProvidersQuery {
  const parsed = schema.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  const errorFields = parsed.error.issues.map((i) => ({ name: String(i.path[0]), message: i.message }));
  throw new ExternalOAuthHttpError(422, 'Invalid query parameters.', errorFields);
}
