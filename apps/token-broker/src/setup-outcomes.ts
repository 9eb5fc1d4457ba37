import { Injectable, Logger } from '@nestjs/common';
import { BusClientProxy } from '@broker/bus';
import type { BrowserSetupResult, SetupOutcome } from '@broker/contracts';
import { AccessTokenIssuer } from '@broker/identity';

const TTL_SECONDS = 300;

/**
 * Tells the registry how a hosted setup's consent ended (scope `setups:finish`, which only tokens
 * the broker mints for itself carry) and learns where the browser goes next. A failure to report
 * is logged and answered as "unknown": the authorization is linked either way, and the setup then
 * expires on its own.
 */
@Injectable()
export class SetupOutcomeReporter {
  private readonly logger = new Logger('SetupOutcomes');
  private readonly tokens = new Map<string, { token: string; until: number }>();

  constructor(
    private readonly bus: BusClientProxy,
    private readonly issuer: AccessTokenIssuer,
  ) {}

  async report(orgId: string, setupId: string, result: SetupOutcome): Promise<BrowserSetupResult> {
    try {
      const done = await this.bus.request(
        'oauth-setups.finish',
        { setupId, result },
        { auth: await this.token(orgId) },
      );
      return { id: done.setupId, status: done.status, redirectUrl: done.redirectUrl };
    } catch (err) {
      this.logger.warn(
        `setup ${setupId}: outcome ${result.outcome} not recorded (${(err as Error).message})`,
      );
      return { id: setupId, status: 'unknown', redirectUrl: null };
    }
  }

  private async token(orgId: string): Promise<string> {
    const hit = this.tokens.get(orgId);
    if (hit && hit.until > Date.now()) return hit.token;
    const { token } = await this.issuer.issue({
      sub: 'service:token-broker',
      orgId,
      clientId: 'token-broker',
      scope: ['setups:finish'],
      ttlSeconds: TTL_SECONDS,
    });
    this.tokens.set(orgId, { token, until: Date.now() + (TTL_SECONDS - 60) * 1000 });
    return token;
  }
}
