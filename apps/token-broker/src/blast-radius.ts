import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { RevocationJob, RevocationReport, RevocationTargetKind } from '@broker/contracts';
import { ClientsService, TokenGrantsService, UsersService } from '@broker/identity';
import {
  AuthorizedProvidersService,
  DEFAULT_TOKEN_LEDGER_OPTIONS,
  EMPTY_REPORT,
  RevocationJobsStore,
  TargetAuthorization,
  TokenLedger,
} from '@broker/tokens';
import { ConsumerChangeNotices } from './consumer-changes';

/** How many authorizations a job revokes at once (each upstream call is bounded by the adapter's timeout). */
const CONCURRENCY = 4;

/**
 * Blast-radius revocation: everything of one user, one consumer or one provider, in one call. The
 * job row is written first and answered at once; the work runs in this process:
 * - user: the user's broker tokens revoked (every session, every client), then each of their
 *   authorizations revoked at the provider where it can be and removed here (every replica drops it);
 * - provider: each authorization at the provider, the same way;
 * - consumer: its grants withdrawn (it is served nothing more) and its broker tokens revoked; the
 *   provider tokens it was served are the users' own and stay valid upstream until they expire:
 *   the report lists them (from the ledger) so they can be ended with a user or provider job.
 * The report says what the provider could not revoke (no revocation API, an error, a refusal).
 */
@Injectable()
export class BlastRadius implements OnApplicationBootstrap {
  private readonly logger = new Logger('BlastRadius');
  /** The jobs running in this process (tests and shutdown wait on them). */
  readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly store: RevocationJobsStore,
    private readonly authorized: AuthorizedProvidersService,
    private readonly users: UsersService,
    private readonly clients: ClientsService,
    private readonly grants: TokenGrantsService,
    private readonly ledger: TokenLedger,
    private readonly changes: ConsumerChangeNotices,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // A job left running by a stopped replica an hour ago is not running anywhere.
    const abandoned = await this.store.failAbandoned(3_600_000).catch(() => 0);
    if (abandoned) this.logger.warn(`${abandoned} interrupted revocation job(s) marked failed`);
  }

  async start(
    orgId: string,
    kind: RevocationTargetKind,
    targetId: string,
    reason: string,
    requestedBy: string,
  ): Promise<RevocationJob> {
    const job = await this.store.create(orgId, kind, targetId, reason, requestedBy);
    const run = this.run(orgId, job)
      .catch((err: unknown) =>
        this.logger.error(
          `revocation job ${job.id} failed: ${err instanceof Error ? err.message : String(err)}`,
        ),
      )
      .finally(() => this.running.delete(job.id));
    this.running.set(job.id, run);
    return job;
  }

  private async run(orgId: string, job: RevocationJob): Promise<void> {
    const report: RevocationReport = structuredClone(EMPTY_REPORT);
    const { kind, id } = job.target;
    try {
      if (kind === 'user') {
        // First the broker's own tokens: from here on no caller acting for the user gets through.
        report.brokerTokensRevoked = await this.users.revokeAllOfUser(orgId, id);
        await this.changes.user(orgId, id);
        await this.revokeAll(orgId, await this.store.authorizationsOf(orgId, { userId: id }), report);
      } else if (kind === 'provider') {
        await this.revokeAll(orgId, await this.store.authorizationsOf(orgId, { providerId: id }), report);
      } else {
        report.grantsWithdrawn = await this.grants.removeAllOfClient(orgId, id);
        report.brokerTokensRevoked = await this.clients.revokeAllOfClient(id, orgId);
        await this.changes.client(orgId, id, 'client');
        // What was served a moment ago is in the ledger too: this replica's pending records now, the
        // other replicas' within their batch interval (250 ms), so the job waits that long first.
        await this.ledger.flush();
        await new Promise((resolve) => setTimeout(resolve, 2 * DEFAULT_TOKEN_LEDGER_OPTIONS.flushMs));
        report.notRevokedUpstream.push(...(await this.store.stillValidServedTo(orgId, id)));
      }
      await this.store.finish(job.id, report.failures.length ? 'failed' : 'done', report);
    } catch (err) {
      report.failures.push({
        authorizationId: '',
        error: err instanceof Error ? err.message : 'the job failed',
      });
      await this.store.finish(job.id, 'failed', report);
    }
  }

  private async revokeAll(
    orgId: string,
    targets: TargetAuthorization[],
    report: RevocationReport,
  ): Promise<void> {
    const queue = [...targets];
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const a = next;
        try {
          const outcome = await this.authorized.remove(orgId, a.userId, a.id);
          report.removedLocally++;
          if (outcome.revoked) report.revokedUpstream++;
          else
            report.notRevokedUpstream.push({
              authorizationId: a.id,
              providerId: a.providerId,
              userId: a.userId,
              reason: outcome.revocationError ?? 'the provider did not confirm the revocation',
            });
        } catch (err) {
          report.failures.push({
            authorizationId: a.id,
            error: err instanceof Error ? err.message : 'not removed',
          });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
  }
}
