import type { OAuthSetupStatus } from '@broker/contracts';

/** The setups table (schema `registry`). */
export const SETUPS = 'registry.oauth_setups';
/** The statuses in which a setup's link can still be used. */
export const OPEN: OAuthSetupStatus[] = ['unused', 'opened'];

/** One row of `registry.oauth_setups`, as `SELECT *` returns it. */
export interface SetupRow {
  id: string;
  org_id: string;
  provider_id: string;
  user_id: string;
  status: OAuthSetupStatus;
  is_ephemeral: boolean;
  name: string | null;
  description: string | null;
  metadata: Record<string, string> | null;
  redirect_url: string | null;
  config: { scopes?: string[] };
  authorization_id: string | null;
  error: string | null;
  created_at: Date;
  updated_at: Date;
  expires_at: Date;
  finished_at: Date | null;
}

/** Who creates or reads setups: the org, the caller's subject, and whether it is a service account (not a person). */
export interface SetupCaller {
  orgId: string;
  sub: string;
  isService: boolean;
}

export interface OAuthSetupsOptions {
  publicUrl: string;
  /** Lifetime of a setup without `expires_at`. */
  defaultTtlMs: number;
  /** The longest `expires_at` may be from now. */
  maxTtlMs: number;
  /** How long a finished or expired ephemeral setup is kept (so the app can read the outcome) before the sweep removes it. */
  ephemeralRetentionMs: number;
}

/** The status as a reader must see it: an open setup past `expires_at` is expired even before the sweep records it. */
export function effectiveStatus(row: SetupRow): OAuthSetupStatus {
  return OPEN.includes(row.status) && row.expires_at.getTime() <= Date.now() ? 'expired' : row.status;
}

/** A setup webhook's data: ids and statuses only. */
export function setupEventData(row: SetupRow): Record<string, string | null> {
  return {
    setup_id: row.id,
    provider_deployment_id: row.provider_id,
    user_id: row.user_id,
    status: row.status,
    authorization_id: row.authorization_id,
    error: row.error,
  };
}
