import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import { SERVICE_CONFIG } from '../config/config.tokens';
import type { ServiceConfig } from '../config/service-config';
import { withTimeout } from '../async/with-timeout';
import { isDraining } from './draining';
import { HEALTH_CHECKS, HealthCheck } from './health-check';

/** What /health/ready answers: each dependency up or down, and the names of those that are down. */
export interface ReadinessBody {
  status: 'ok' | 'unavailable';
  service: string;
  checks: Record<string, 'up' | 'down'>;
  /** The dependencies that did not answer (empty when ready). */
  failing: string[];
}

/** The part of a response the controller needs; Express's and Fastify's replies both have `status()`. */
interface StatusSettable {
  status(code: number): unknown;
}

/**
 * Kubernetes probes: liveness says the process runs; readiness says its dependencies answer. Both
 * name the service, so a probe that reached the wrong process (a port mix-up) is told apart.
 *
 * Not-ready is answered, not thrown: a thrown 503 went through each app's global exception filter,
 * and the gateway's (its API error shape) turned it into a logged 500 "Internal error" on every
 * probe while Redis was down.
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
  async ready(@Res({ passthrough: true }) res: StatusSettable): Promise<ReadinessBody> {
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
    const failing = results.filter(([, s]) => s === 'down').map(([name]) => name);
    // Shutting down: out of the load balancer's rotation while in-flight and late requests finish.
    if (isDraining()) failing.push('draining');
    res.status(failing.length ? 503 : 200);
    return {
      status: failing.length ? 'unavailable' : 'ok',
      service: this.config.service,
      checks: Object.fromEntries(results),
      failing,
    };
  }
}
