import { z } from 'zod';
import { plainText } from './plain-text';

/** What a blast-radius revocation takes away: everything of one user, one consumer (client) or one provider. */
export const REVOCATION_TARGETS = ['user', 'consumer', 'provider'] as const;
export type RevocationTargetKind = (typeof REVOCATION_TARGETS)[number];

export const startRevocationJobSchema = z
  .strictObject({
    user: plainText(255, 1).optional(),
    consumer: plainText(255, 1).optional(),
    provider: z.uuid().optional(),
    reason: plainText(500).default(''),
  })
  .refine((r) => [r.user, r.consumer, r.provider].filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of user, consumer, provider',
  });
export type StartRevocationJob = z.infer<typeof startRevocationJobSchema>;

export const revocationJobIdSchema = z.strictObject({ id: z.uuid() });

/** One thing the provider could not revoke (the token stays valid there until it expires or the user revokes the app). */
export interface NotRevokedUpstream {
  authorizationId: string;
  providerId: string;
  userId: string;
  reason: string;
}

export interface RevocationReport {
  /** Authorizations whose grant the provider confirmed revoked. */
  revokedUpstream: number;
  /** Authorizations removed from the broker (no path serves their tokens any more). */
  removedLocally: number;
  /** Consumer grants withdrawn (consumer target). */
  grantsWithdrawn: number;
  /** Whether the broker's own tokens of the user or client were revoked. */
  brokerTokensRevoked: boolean;
  notRevokedUpstream: NotRevokedUpstream[];
  /** Authorizations that could not be removed locally (an error; the job is `failed`). */
  failures: { authorizationId: string; error: string }[];
}

export interface RevocationJob {
  id: string;
  target: { kind: RevocationTargetKind; id: string };
  status: 'running' | 'done' | 'failed';
  reason: string;
  requestedBy: string;
  createdAt: string;
  finishedAt: string | null;
  report: RevocationReport;
}
