import { Controller, Get, HttpCode, Inject, ServiceUnavailableException } from '@nestjs/common';
import { SERVICE_CONFIG } from '../config/config.tokens';
import type { ServiceConfig } from '../config/service-config';
import { HEALTH_CHECKS, HealthCheck } from './health-check';

/**
 * Kubernetes probes: liveness says the process runs; readiness says its dependencies answer. Both
 * name the service, so a probe that reached the wrong process (a port mix-up) is told apart.
 */
@Controller('health')
export class HealthController {
  constructor(
    @Inject(HEALTH_CHECKS) private readonly checks: HealthCheck[],
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  @Get('live')
  @HttpCode(200)
  live(): { status: 'ok'; service: string } {
    return { status: 'ok', service: this.config.service };
  }

  @Get('ready')
  async ready(): Promise<{ status: 'ok'; service: string; checks: Record<string, 'up'> }> {
    const results = await Promise.all(
      this.checks.map(async (c) => {
        try {
          await withTimeout(c.check(), 2_000);
          return [c.name, 'up'] as const;
        } catch {
          return [c.name, 'down'] as const;
        }
      }),
    );
    const checks = Object.fromEntries(results);
    if (results.some(([, s]) => s === 'down')) throw new ServiceUnavailableException({ status: 'unavailable', service: this.config.service, checks });
    return { status: 'ok', service: this.config.service, checks: checks as Record<string, 'up'> };
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e: unknown) => (clearTimeout(t), reject(e)),
    );
  });
}
