import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { DeviceExchangeResult, ExternalAuthDevice } from '@broker/contracts';
import { EncryptionContext, EnvelopeCipher, KeyedHasher } from '@broker/crypto';
import { adapterFor, ProviderCallError, type AdapterClient } from '@broker/provider-adapters';
import { AuthorizationLinker } from '../authorizations/authorization-linker';
import { ProviderAccess, ProviderCredentials } from '../ports';
import { TokensError } from '../tokens-error';

const TABLE = 'tokens.device_authorizations';
/** RFC 8628 §3.5: each `slow_down` adds 5 seconds to the interval, for good. */
const SLOW_DOWN_STEP_SECONDS = 5;

export type DeviceAuthorizationStatus = 'pending' | 'authorized' | 'denied' | 'expired' | 'failed';

/**
 * Starts the poller of a device authorization (the worker's `device-poll` queue): one job per
 * record, first run after `delayMs`. Resolves once the job is stored.
 */
export type DevicePollScheduler = (
  orgId: string,
  deviceAuthorizationId: string,
  delayMs: number,
) => Promise<void>;

interface Row {
  id: string;
  org_id: string;
  user_id: string;
  provider_id: string;
  device_code: string;
  interval_seconds: number;
  updated_at: Date;
  expires_at: Date;
  status: DeviceAuthorizationStatus;
  last_poll_result: string | null;
  error: string | null;
}

export interface DeviceFlowOptions {
  providerTimeoutMs: number;
}

/**
 * The device flow (RFC 8628) for providers whose adapter supports it. `start` asks the provider for
 * a device and user code, stores the device code encrypted (found again by its keyed hash) and
 * starts one poller; `poll` is one step of that poller (the worker re-delays the job by the answer);
 * `exchange` tells the user's client where the flow stands. The account is linked by the poller,
 * exactly as a consent callback links it.
 */
export class DeviceFlowService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly cipher: EnvelopeCipher,
    private readonly hasher: KeyedHasher,
    private readonly providers: ProviderAccess,
    private readonly linker: AuthorizationLinker,
    private readonly fetchImpl: typeof fetch,
    private readonly schedulePoll: DevicePollScheduler,
    private readonly options: DeviceFlowOptions,
  ) {}

  /** Starts a device authorization for the user at one of the org's providers. */
  async start(orgId: string, userId: string, providerId: string): Promise<ExternalAuthDevice> {
    const credentials = await this.provider(orgId, providerId);
    if (credentials.provider.status !== 'active')
      throw new TokensError(
        'CONFLICT',
        `The provider is ${credentials.provider.status}; only an active provider can be linked.`,
      );
    const adapter = adapterFor(credentials.resolved);
    if (!adapter.capabilities(credentials.resolved).deviceFlow || !adapter.startDeviceAuthorization) {
      throw new TokensError(
        'BAD_REQUEST',
        'This provider does not support the device flow (RFC 8628): link it through the authorization-code flow instead.',
      );
    }
    const scopes = credentials.provider.customScopes.length
      ? credentials.provider.customScopes
      : credentials.resolved.defaultScopes;
    let started;
    try {
      started = await adapter.startDeviceAuthorization(this.client(credentials), scopes);
    } catch (err) {
      if (err instanceof ProviderCallError && err.kind === 'transient')
        throw new TokensError('UNAVAILABLE', 'The provider did not answer; try again.');
      throw new TokensError(
        'CONFLICT',
        `The provider refused to start a device authorization (${err instanceof Error ? err.message : 'error'}); check that its OAuth app allows the device flow.`,
      );
    }
    const id = randomUUID();
    const sealed = this.cipher.encrypt(started.deviceCode, context(orgId, id));
    await this.dataSource.query(
      `INSERT INTO ${TABLE} (id, org_id, user_id, provider_id, device_code, device_code_hash, key_id, user_code, verification_uri, interval_seconds, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        id,
        orgId,
        userId,
        providerId,
        sealed,
        this.hash(started.deviceCode),
        this.cipher.keyIdOf(sealed),
        started.userCode,
        started.verificationUri,
        started.interval,
        new Date(Date.now() + started.expiresIn * 1000),
      ],
    );
    try {
      await this.schedulePoll(orgId, id, started.interval * 1000);
    } catch {
      await this.finish(orgId, id, 'failed', 'the poller could not be started');
      throw new TokensError('UNAVAILABLE', 'The device authorization could not be started; try again.');
    }
    return {
      device_code: started.deviceCode,
      user_code: started.userCode,
      verification_uri: started.verificationUri,
      expires_in: started.expiresIn,
      interval: started.interval,
    };
  }

  /** Where the user's device authorization stands (NOT_FOUND for an unknown code or another user's). */
  async exchange(
    orgId: string,
    userId: string,
    providerId: string,
    deviceCode: string,
  ): Promise<DeviceExchangeResult> {
    const [row] = (await this.dataSource.query(
      `SELECT * FROM ${TABLE} WHERE device_code_hash = $1 AND org_id = $2 AND user_id = $3 AND provider_id = $4`,
      [this.hash(deviceCode), orgId, userId, providerId],
    )) as (Row & { authorization_id: string | null })[];
    if (!row)
      throw new TokensError(
        'NOT_FOUND',
        'No device authorization with this device code: start one with GET .../device.',
      );
    switch (row.status) {
      case 'authorized':
        return { state: 'authorized', detail: 'The account is linked.' };
      case 'denied':
        return { state: 'access_denied', detail: 'The user refused the authorization at the provider.' };
      case 'expired':
        return {
          state: 'expired_token',
          detail: 'The device code expired before the user approved it: start again.',
        };
      case 'failed':
        return {
          state: 'failed',
          detail: `The device authorization failed: ${row.error ?? 'unknown error'}. Start again.`,
        };
      default:
        if (row.expires_at.getTime() <= Date.now())
          return {
            state: 'expired_token',
            detail: 'The device code expired before the user approved it: start again.',
          };
        if (row.last_poll_result === 'slow_down')
          return {
            state: 'slow_down',
            detail: `The provider asked to poll less often; polling every ${row.interval_seconds} s.`,
          };
        return {
          state: 'authorization_pending',
          detail: `Waiting for the user to enter the code at the provider; try again in ${row.interval_seconds} s.`,
        };
    }
  }

  /**
   * One poll of the provider for a pending record. Returns the delay before the next poll, or null
   * when polling is over (linked, denied, expired, failed, or the record is gone / no longer pending).
   */
  async poll(orgId: string, id: string): Promise<number | null> {
    const [row] = (await this.dataSource.query(`SELECT * FROM ${TABLE} WHERE id = $1 AND org_id = $2`, [
      id,
      orgId,
    ])) as Row[];
    if (!row || row.status !== 'pending') return null;
    if (row.expires_at.getTime() <= Date.now()) {
      await this.finish(orgId, id, 'expired', 'expired_token');
      return null;
    }
    // Poll jobs come from Redis: the record says when the next poll is due (a poll asked for early,
    // by a forged job or a duplicate, waits until then instead of calling the provider).
    const dueIn = row.updated_at.getTime() + row.interval_seconds * 1000 - 500 - Date.now();
    if (dueIn > 0) return dueIn;
    const credentials = await this.providers(orgId, row.provider_id, { fresh: true });
    const adapter = credentials ? adapterFor(credentials.resolved) : undefined;
    if (!credentials || !adapter?.pollDeviceToken) {
      await this.finish(
        orgId,
        id,
        'failed',
        credentials ? 'the provider no longer supports the device flow' : 'the provider no longer exists',
      );
      return null;
    }
    const deviceCode = this.cipher.decryptString(row.device_code, context(orgId, id));
    const result = await adapter.pollDeviceToken(this.client(credentials), deviceCode);
    const next = (seconds: number) =>
      Math.max(0, Math.min(seconds * 1000, row.expires_at.getTime() - Date.now() + 250));
    switch (result.status) {
      case 'authorized': {
        const { authorization } = await this.linker.link(
          orgId,
          row.user_id,
          row.provider_id,
          credentials,
          result.tokens,
        );
        await this.dataSource.query(
          `UPDATE ${TABLE} SET status = 'authorized', authorization_id = $3, last_poll_result = 'authorized', polls = polls + 1, updated_at = now() WHERE id = $1 AND org_id = $2`,
          [id, orgId, authorization.id],
        );
        return null;
      }
      case 'pending':
        await this.polled(orgId, id, 'authorization_pending', row.interval_seconds);
        return next(row.interval_seconds);
      case 'slow_down': {
        // The provider's own new interval when it names one (GitHub), else 5 s more; kept from now on.
        const interval =
          result.interval && result.interval > row.interval_seconds
            ? result.interval
            : row.interval_seconds + SLOW_DOWN_STEP_SECONDS;
        await this.polled(orgId, id, 'slow_down', interval);
        return next(interval);
      }
      case 'denied':
        await this.finish(orgId, id, 'denied', 'access_denied');
        return null;
      case 'expired':
        await this.finish(orgId, id, 'expired', 'expired_token');
        return null;
      case 'failed':
        // A provider that is down or slow is asked again at the next interval, until the code expires.
        if (result.error.kind === 'transient') {
          await this.polled(orgId, id, 'transient', row.interval_seconds);
          return next(row.interval_seconds);
        }
        await this.finish(orgId, id, 'failed', result.error.message);
        return null;
    }
    return null;
  }

  /**
   * Housekeeping: pending records past their expiry become `expired` (their poller may be gone),
   * finished ones are deleted a day after they ended, encrypted device code included.
   */
  async sweep(): Promise<{ expired: number; purged: number }> {
    const [, expired] = (await this.dataSource.query(
      `UPDATE ${TABLE} SET status = 'expired', error = 'expired_token', last_poll_result = 'expired_token', updated_at = now() WHERE status = 'pending' AND expires_at < now()`,
    )) as [unknown, number];
    const [, purged] = (await this.dataSource.query(
      `DELETE FROM ${TABLE} WHERE status <> 'pending' AND updated_at < now() - interval '1 day'`,
    )) as [unknown, number];
    return { expired, purged };
  }

  /** Pending records nobody has polled for `idleMs` past their interval: their poller may have been lost. */
  async stalled(idleMs: number): Promise<{ orgId: string; id: string }[]> {
    const rows = (await this.dataSource.query(
      `SELECT org_id, id FROM ${TABLE} WHERE status = 'pending' AND expires_at > now() AND updated_at < now() - make_interval(secs => interval_seconds + $1::float / 1000) ORDER BY updated_at LIMIT 100`,
      [idleMs],
    )) as { org_id: string; id: string }[];
    return rows.map((r) => ({ orgId: r.org_id, id: r.id }));
  }

  /** Ends a pending record as failed (its poller failed for good). */
  fail(orgId: string, id: string, reason: string): Promise<void> {
    return this.finish(orgId, id, 'failed', reason);
  }

  private async provider(orgId: string, providerId: string): Promise<ProviderCredentials> {
    const credentials = /^[0-9a-f-]{36}$/i.test(providerId)
      ? await this.providers(orgId, providerId, { fresh: true })
      : null;
    if (!credentials) throw new TokensError('NOT_FOUND', 'External auth provider not found.');
    return credentials;
  }

  private client(credentials: ProviderCredentials): AdapterClient {
    return {
      provider: credentials.resolved,
      clientId: credentials.provider.clientId,
      clientSecret: credentials.clientSecret,
      fetch: this.fetchImpl,
      timeoutMs: this.options.providerTimeoutMs,
    };
  }

  private hash(deviceCode: string): string {
    return this.hasher.hash('device_code', deviceCode);
  }

  private async polled(orgId: string, id: string, result: string, intervalSeconds: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE ${TABLE} SET last_poll_result = $3, interval_seconds = $4, polls = polls + 1, updated_at = now() WHERE id = $1 AND org_id = $2 AND status = 'pending'`,
      [id, orgId, result, intervalSeconds],
    );
  }

  private async finish(
    orgId: string,
    id: string,
    status: Exclude<DeviceAuthorizationStatus, 'pending' | 'authorized'>,
    error: string,
  ): Promise<void> {
    await this.dataSource.query(
      `UPDATE ${TABLE} SET status = $3, error = $4, last_poll_result = $4, updated_at = now() WHERE id = $1 AND org_id = $2 AND status = 'pending'`,
      [id, orgId, status, error],
    );
  }
}

function context(orgId: string, rowId: string): EncryptionContext {
  return { table: TABLE, column: 'device_code', orgId, rowId };
}
