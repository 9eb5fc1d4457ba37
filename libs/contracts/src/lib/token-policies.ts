import { z } from 'zod';
import { plainText } from './plain-text';
import { PROVIDER_TYPES, ProviderType } from './providers';

/**
 * Consumer policies: which provider tokens a client of the broker (a "consumer") may be served.
 * A client's policy is the set of its grants; a token is served when one grant allows it. A client
 * without grants is served nothing (new clients start that way).
 *
 * Subjects — whose provider tokens:
 * - `self`: only the user the caller acts for (a user's own token, or the subject of a token exchange);
 * - `users`: the users named in `users`;
 * - `org`: every user of the client's org.
 */
export const SUBJECT_MODES = ['self', 'users', 'org'] as const;
export type SubjectMode = (typeof SUBJECT_MODES)[number];

/** The rules a refusal names (`policy.<rule>` in the error's fields). */
export const POLICY_RULES = ['grant', 'providers', 'subjects', 'scopes', 'lifetime'] as const;
export type PolicyRule = (typeof POLICY_RULES)[number];

/** One grant of a consumer's policy. */
export interface TokenGrant {
  id: string;
  orgId: string;
  clientId: string;
  /** `"*"`: every provider of the org; otherwise these provider ids and every provider of these types. */
  providers: '*' | { ids: string[]; types: ProviderType[] };
  subjects: { mode: SubjectMode; users: string[] };
  /** The provider scopes a served token may carry at most; null: any. */
  maxScopes: string[] | null;
  /** How long a served token may still live, at most, in seconds; null: no bound. */
  maxLifetimeSeconds: number | null;
  description: string;
  createdAt: string;
}

const text = (max: number) => plainText(max, 1);

/** A new grant as the admin API and the admin tool take it. */
export const newTokenGrantSchema = z.strictObject({
  providers: z.union([
    z.literal('*'),
    z.strictObject({
      ids: z.array(z.uuid()).max(100).default([]),
      types: z.array(z.enum(PROVIDER_TYPES)).max(20).default([]),
    }),
  ]),
  subjects: z.strictObject({ mode: z.enum(SUBJECT_MODES), users: z.array(text(255)).max(1000).default([]) }),
  maxScopes: z.array(text(512)).max(100).nullable().default(null),
  maxLifetimeSeconds: z.number().int().min(1).max(31_536_000).nullable().default(null),
  description: plainText(500).default(''),
});
export type NewTokenGrant = z.infer<typeof newTokenGrantSchema>;

/**
 * What a consumer asks for beyond "a valid token": narrower than the authorization's own token.
 * Honoured natively where the provider can mint a narrower token (the answer says `attenuated`);
 * where it cannot, the authorization's own token is served and `unmet` names what was not narrowed.
 */
export interface TokenRestriction {
  /** Fewer provider scopes (Box: downscoped token scopes). */
  scopes?: string[];
  /** Chosen repositories, `owner/name` (GitHub App installation tokens). */
  repositories?: string[];
  /** Chosen permissions, name → `read` | `write` (GitHub App installation tokens). */
  permissions?: Record<string, 'read' | 'write' | 'admin'>;
  /** A shorter life, in seconds. */
  maxLifetimeSeconds?: number;
}

export const tokenRestrictionSchema = z.strictObject({
  scopes: z.array(text(512)).min(1).max(100).optional(),
  repositories: z
    .array(
      z.string().regex(/^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/, { message: 'must be owner/name' }),
    )
    .min(1)
    .max(500)
    .optional(),
  permissions: z
    .record(
      z.string().regex(/^[a-z_]{1,64}$/, { message: 'must be a permission name' }),
      z.enum(['read', 'write', 'admin']),
    )
    .refine((p) => Object.keys(p).length > 0 && Object.keys(p).length <= 50, {
      message: 'give 1 to 50 permissions',
    })
    .optional(),
  maxLifetimeSeconds: z.number().int().min(60).max(86_400).optional(),
});

/** The restriction's parts that can be asked for. */
export type RestrictionPart = keyof TokenRestriction;

/** What the token path asks a consumer's policy before serving a token. */
export interface PolicyQuestion {
  orgId: string;
  /** The consumer: the client the caller's token was issued to. */
  clientId: string;
  /** The user the caller acts for (a user's token, or the subject of an exchange); absent for a service account. */
  actingFor?: string;
  /** The user whose authorization it is. */
  subject: string;
  providerId: string;
  providerType: string;
}

/**
 * The policy's answer: refused (with the rule that refused), or allowed within bounds that the
 * token path enforces on the token itself (narrowing it where the provider can, refusing otherwise).
 */
export type PolicyAnswer =
  | { allowed: true; maxScopes: string[] | null; maxLifetimeSeconds: number | null }
  | { allowed: false; rule: PolicyRule; message: string };
