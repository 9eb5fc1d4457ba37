import { z } from 'zod';

/**
 * A string of at most `max` characters without NUL: PostgreSQL cannot store NUL and no field of
 * ours holds one, so a NUL is refused where the value arrives (the admin API, the bus), naming the
 * field, instead of failing in a query.
 */
export const plainText = (max: number, min = 0) =>
  z
    .string()
    .min(min)
    .max(max)
    .refine((v) => !v.includes('\u0000'), { message: 'must not contain NUL' });
