import type { ZodType } from 'zod';
import type { BusErrorPayload } from '@broker/contracts';

/**
 * The one place every bus payload is checked: the bus server runs it on each request before its
 * handler, with the pattern's schema from `libs/contracts`, and hands the handler the parsed value
 * (handlers never coerce). No schema means no handling: a pattern must be in the contract.
 */
export function validateBusPayload(
  schema: ZodType | undefined,
  pattern: string,
  data: unknown,
): { ok: true; data: unknown } | { ok: false; error: BusErrorPayload } {
  if (!schema)
    return { ok: false, error: { code: 'BAD_REQUEST', message: `no payload schema for '${pattern}'` } };
  const parsed = schema.safeParse(data);
  if (parsed.success) return { ok: true, data: parsed.data };
  const fields = parsed.error.issues.slice(0, 50).map((issue) => ({
    name: issue.path.map(String).join('.') || 'payload',
    message:
      issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
  }));
  return { ok: false, error: { code: 'BAD_REQUEST', message: `invalid '${pattern}' payload`, fields } };
}
