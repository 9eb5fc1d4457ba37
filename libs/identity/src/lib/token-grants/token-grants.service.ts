import { DataSource } from 'typeorm';
import { LoadingCache } from '@broker/service-runtime';
import type {
  NewTokenGrant,
  PolicyAnswer,
  PolicyQuestion,
  ProviderType,
  SubjectMode,
  TokenGrant,
} from '@broker/contracts';
import { decidePolicy } from './policy-decision';

interface GrantRow {
  id: string;
  org_id: string;
  client_id: string;
  all_providers: boolean;
  provider_ids: string[];
  provider_types: string[];
  subject_mode: SubjectMode;
  subject_users: string[];
  max_scopes: string[] | null;
  max_lifetime_seconds: number | null;
  description: string;
  created_at: Date;
}

/** The grant cannot be made as asked (unknown client, a user list for another mode...): a message for the operator. */
export class TokenGrantError extends Error {}

export interface TokenGrantsOptions {
  /**
   * How long a replica answers from its copy of a client's grants. Changes made through this
   * process apply at once; those made elsewhere (another replica, the admin tool) within this.
   */
  cacheMs: number;
}

export const DEFAULT_TOKEN_GRANTS_OPTIONS: TokenGrantsOptions = { cacheMs: 2_000 };

/**
 * Consumer policies (`identity.token_grants`): grants made, listed and withdrawn by an org's admin,
 * and the question the token path asks before serving a provider token. Reads are cached per client
 * for `cacheMs` (concurrent misses share one query, a read that raced a change is not kept), so
 * the check costs a map lookup on the hot path.
 */
export class TokenGrantsService {
  private readonly cache: LoadingCache<string, TokenGrant[]>;

  constructor(
    private readonly dataSource: DataSource,
    options: TokenGrantsOptions = DEFAULT_TOKEN_GRANTS_OPTIONS,
  ) {
    this.cache = new LoadingCache({ max: 10_000, ttlMs: options.cacheMs });
  }

  /** Whether the consumer may be served the token the question describes, and within which bounds. */
  async decide(q: PolicyQuestion): Promise<PolicyAnswer> {
    const grants = await this.forClient(q.clientId);
    // A grant is the org's: a client id of another org never matches (ids are global, grants are not).
    return decidePolicy(
      grants.filter((g) => g.orgId === q.orgId),
      q,
    );
  }

  /** The client's grants (cached for `cacheMs`). */
  forClient(clientId: string): Promise<TokenGrant[]> {
    return this.cache.get(clientId, () => this.read(clientId));
  }

  /** The org's grants, of one client or of all, oldest first. */
  async list(orgId: string, clientId?: string): Promise<TokenGrant[]> {
    const rows = (await this.dataSource.query(
      `SELECT * FROM identity.token_grants WHERE org_id = $1 AND ($2::text IS NULL OR client_id = $2) ORDER BY created_at, id`,
      [orgId, clientId ?? null],
    )) as GrantRow[];
    return rows.map(toGrant);
  }

  /** Grants a client of the org (TokenGrantError for a client of another org or unknown). */
  async create(orgId: string, clientId: string, input: NewTokenGrant): Promise<TokenGrant> {
    if (input.subjects.mode === 'users' && input.subjects.users.length === 0)
      throw new TokenGrantError("subjects.mode 'users' needs at least one user in subjects.users");
    if (input.subjects.mode !== 'users' && input.subjects.users.length > 0)
      throw new TokenGrantError(`subjects.users is only for subjects.mode 'users'`);
    if (input.providers !== '*' && input.providers.ids.length + input.providers.types.length === 0) {
      throw new TokenGrantError(
        'providers needs at least one provider id or type, or "*" for every provider',
      );
    }
    const all = input.providers === '*';
    const rows = (await this.dataSource.query(
      `INSERT INTO identity.token_grants (org_id, client_id, all_providers, provider_ids, provider_types, subject_mode, subject_users, max_scopes, max_lifetime_seconds, description)
       SELECT $1, c.id, $3, $4, $5, $6, $7, $8, $9, $10 FROM identity.oauth_clients c WHERE c.id = $2 AND c.org_id = $1
       RETURNING *`,
      [
        orgId,
        clientId,
        all,
        all ? [] : dedupe((input.providers as { ids: string[] }).ids.map((id) => id.toLowerCase())),
        all ? [] : dedupe((input.providers as { types: string[] }).types),
        input.subjects.mode,
        dedupe(input.subjects.users),
        input.maxScopes === null ? null : dedupe(input.maxScopes),
        input.maxLifetimeSeconds,
        input.description,
      ],
    )) as GrantRow[];
    if (!rows[0]) throw new TokenGrantError(`client '${clientId}' does not exist in org '${orgId}'`);
    this.forget(clientId);
    return toGrant(rows[0]);
  }

  /** Withdraws one grant of the org; false when there is no such grant. */
  async remove(orgId: string, grantId: string): Promise<boolean> {
    return (await this.withdraw(orgId, grantId)) !== null;
  }

  /** Withdraws one grant of the org: the client it was of (for the change notice), null when there is no such grant. */
  async withdraw(orgId: string, grantId: string): Promise<string | null> {
    if (!/^[0-9a-f-]{36}$/i.test(grantId)) return null;
    const [rows] = (await this.dataSource.query(
      `DELETE FROM identity.token_grants WHERE id = $1 AND org_id = $2 RETURNING client_id`,
      [grantId, orgId],
    )) as [{ client_id: string }[], number];
    for (const r of rows) this.forget(r.client_id);
    return rows[0]?.client_id ?? null;
  }

  /** Withdraws every grant of a client (it is served nothing from then on); how many went. */
  async removeAllOfClient(orgId: string, clientId: string): Promise<number> {
    const [, count] = (await this.dataSource.query(
      `DELETE FROM identity.token_grants WHERE org_id = $1 AND client_id = $2`,
      [orgId, clientId],
    )) as [unknown, number];
    this.forget(clientId);
    return count;
  }

  /**
   * Makes sure a client holds a grant of everything in its org (the bootstrap admin): added only
   * when the client has no grant at all, so an operator's narrower policy is never widened.
   */
  async ensureFullGrant(orgId: string, clientId: string): Promise<boolean> {
    const rows = (await this.dataSource.query(
      `INSERT INTO identity.token_grants (org_id, client_id, all_providers, subject_mode, description)
       SELECT $1, $2, true, 'org', 'bootstrap admin: every provider, every user of the org'
        WHERE NOT EXISTS (SELECT 1 FROM identity.token_grants WHERE client_id = $2)
       RETURNING id`,
      [orgId, clientId],
    )) as unknown[];
    this.forget(clientId);
    return rows.length === 1;
  }

  /** Drops this process's copy of a client's grants (after a change). */
  forget(clientId: string): void {
    this.cache.forget(clientId);
  }

  private async read(clientId: string): Promise<TokenGrant[]> {
    const rows = (await this.dataSource.query(
      `SELECT * FROM identity.token_grants WHERE client_id = $1 ORDER BY created_at, id`,
      [clientId],
    )) as GrantRow[];
    return rows.map(toGrant);
  }
}

function dedupe(values: string[]): string[] {
  return [...new Set(values)];
}

function toGrant(r: GrantRow): TokenGrant {
  return {
    id: r.id,
    orgId: r.org_id,
    clientId: r.client_id,
    providers: r.all_providers ? '*' : { ids: r.provider_ids, types: r.provider_types as ProviderType[] },
    subjects: { mode: r.subject_mode, users: r.subject_users },
    maxScopes: r.max_scopes,
    maxLifetimeSeconds: r.max_lifetime_seconds,
    description: r.description,
    createdAt: r.created_at.toISOString(),
  };
}
