import type { ProviderTokenSet } from '@broker/provider-adapters';
import type { AuthorizationJournal } from './authorization-journal';
import type { CredentialRepository, Lease } from './credential-repository';

/**
 * Tokens a holder received after it lost its lease: kept (encrypted) rather than lost, since the
 * provider may have rotated the refresh token for them, then adopted if the credential row did not
 * move on meanwhile, else discarded.
 */
export class RefreshCandidates {
  constructor(
    private readonly credentials: CredentialRepository,
    private readonly journal: AuthorizationJournal,
  ) {}

  /** Keeps the tokens of a write that lost its lease, then resolves them at once. */
  async keep(orgId: string, authorizationId: string, lease: Lease, tokens: ProviderTokenSet): Promise<void> {
    const id = await this.credentials.insertCandidate(orgId, authorizationId, lease, tokens);
    await this.journal.audit(
      orgId,
      authorizationId,
      'refresh.candidate',
      `lease lost at generation ${lease.generation}: tokens kept as candidate ${id}`,
    );
    await this.resolve(orgId, authorizationId);
  }

  /** Resolves every authorization's leftover candidates (after a crash between keeping and adopting). */
  async resolveAll(): Promise<number> {
    let adopted = 0;
    for (const r of await this.credentials.authorizationsWithCandidates())
      adopted += await this.resolve(r.org_id, r.authorization_id);
    return adopted;
  }

  /**
   * Adopts a candidate when the credential is still at the generation it was refreshed from (nobody
   * wrote meanwhile); discards candidates the row has moved past. Returns how many were adopted.
   */
  async resolve(orgId: string, authorizationId: string): Promise<number> {
    let adopted = 0;
    for (const c of await this.credentials.candidatesOf(orgId, authorizationId))
      if (await this.credentials.settleCandidate(orgId, authorizationId, c)) adopted++;
    return adopted;
  }
}
