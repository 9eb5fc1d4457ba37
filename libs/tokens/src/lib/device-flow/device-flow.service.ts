import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { DeviceExchangeResult, ExternalAuthDevice } from '@broker/contracts';
import { EnvelopeCipher, KeyedHasher } from '@broker/crypto';
import { adapterFor, ProviderCallError, type AdapterClient } from '@broker/provider-adapters';
import { AuthorizationLinker } from '../authorizations/authorization-linker';
import { ProviderAccess, ProviderCredentials } from '../ports';
import { TokensError } from '../tokens-error';
import { DeviceAuthorizationRecords, DeviceRow, TABLE, context } from './device-authorization-records';
import { exchangeState } from './device-exchange-state';

export type { DeviceAuthorizationStatus } from './device-authorization-records';

/** RFC 8628 §3.5: each `slow_down` adds 5 seconds to the interval, for good. */
const SLOW_DOWN_STEP_SECONDS = 5;

/**
 * Starts the poller of a device authorization (the worker's `device-poll` queue): one job per
 * record, first run after `delayMs`. Resolves once the job is stored.
 */
export type DevicePollScheduler = (
  orgId: string,
  deviceAuthorizationId: string,
  delayMs: number,
) => Promise<void>;

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
  ) {
    this.records = new DeviceAuthorizationRecords(dataSource);
  }

  private readonly records: DeviceAuthorizationRecords;

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
      await this.records.finish(orgId, id, 'failed', 'the poller could not be started');
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
    )) as (DeviceRow & { authorization_id: string | null })[];
    if (!row)
      throw new TokensError(
        'NOT_FOUND',
        'No device authorization with this device code: start one with GET .../device.',
      );
    return exchangeState(row);
  }

  /**
   * One poll of the provider for a pending record. Returns the delay before the next poll, or null
   * when polling is over (linked, denied, expired, failed, or the record is gone / no longer pending).
   */
  async poll(orgId: string, id: string): Promise<number | null> {
    const [row] = (await this.dataSource.query(`SELECT * FROM ${TABLE} WHERE id = $1 AND org_id = $2`, [
      id,
      orgId,
    ])) as DeviceRow[];
    if (!row || row.status !== 'pending') return null;
    if (row.expires_at.getTime() <= Date.now()) {
      await this.records.finish(orgId, id, 'expired', 'expired_token');
      return null;
    }
    // Poll jobs come from Redis: the record says when the next poll is due (a poll asked for early,
    // by a forged job or a duplicate, waits until then instead of calling the provider).
    const dueIn = row.updated_at.getTime() + row.interval_seconds * 1000 - 500 - Date.now();
    if (dueIn > 0) return dueIn;
    const credentials = await this.providers(orgId, row.provider_id, { fresh: true });
    const adapter = credentials ? adapterFor(credentials.resolved) : undefined;
    if (!credentials || !adapter?.pollDeviceToken) {
      await this.records.finish(
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
        await this.records.polled(orgId, id, 'authorization_pending', row.interval_seconds);
        return next(row.interval_seconds);
      case 'slow_down': {
        // The provider's own new interval when it names one (GitHub), else 5 s more; kept from now on.
        const interval =
          result.interval && result.interval > row.interval_seconds
            ? result.interval
            : row.interval_seconds + SLOW_DOWN_STEP_SECONDS;
        await this.records.polled(orgId, id, 'slow_down', interval);
        return next(interval);
      }
      case 'denied':
        await this.records.finish(orgId, id, 'denied', 'access_denied');
        return null;
      case 'expired':
        await this.records.finish(orgId, id, 'expired', 'expired_token');
        return null;
      case 'failed':
        // A provider that is down or slow is asked again at the next interval, until the code expires.
        if (result.error.kind === 'transient') {
          await this.records.polled(orgId, id, 'transient', row.interval_seconds);
          return next(row.interval_seconds);
        }
        await this.records.finish(orgId, id, 'failed', result.error.message);
        return null;
    }
    return null;
  }

  /** Housekeeping: expires pending records past their expiry, deletes those ended a day ago. */
  sweep(): Promise<{ expired: number; purged: number }> {
    return this.records.sweep();
  }

  /** Pending records nobody has polled for `idleMs` past their interval: their poller may have been lost. */
  stalled(idleMs: number): Promise<{ orgId: string; id: string }[]> {
    return this.records.stalled(idleMs);
  }

  /** Ends a pending record as failed (its poller failed for good). */
  fail(orgId: string, id: string, reason: string): Promise<void> {
    return this.records.finish(orgId, id, 'failed', reason);
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
}
