import { Controller, Get, INestApplication, Module } from '@nestjs/common';
import { storage } from 'nestjs-pino/storage';
import { testBusKeys } from '@broker/testing';
import { ServiceDefinition, createServiceApp } from '../src/lib/bootstrap';
import { loadServiceConfig } from '../src/lib/config/service-config';
import { loggingModule } from '../src/lib/logging/logging.module';

// Same paths as health.controller.ts (which needs the service's connections to answer).
@Controller('health')
class ProbeController {
  @Get('live')
  live(): { status: string } {
    return { status: 'ok' };
  }
  @Get('ready')
  ready(): { status: string } {
    return { status: 'ready' };
  }
}

@Controller('whoami')
class OtherController {
  @Get()
  who(): { ok: boolean } {
    return { ok: true };
  }
}

const keys = testBusKeys();

/**
 * Node 20's AsyncLocalStorage turns on promise hooks process-wide at its first run() and keeps them
 * (its `enabled` flag says whether this store did): every promise of every bus request then pays for
 * them. nestjs-pino runs its request store for each HTTP request it binds a logger to.
 */
function requestStoreEnabled(): boolean {
  return (storage as unknown as { enabled: boolean }).enabled;
}

describe('the per-request log context (AsyncLocalStorage) of an internal service', () => {
  let app: INestApplication;
  afterAll(async () => {
    await app?.close();
  });

  it('is never started by health probes (no promise hooks in a bus service), and still is for other routes', async () => {
    // Any service's config: the logging module is the same for all (Express, as the bus services).
    const config = loadServiceConfig(
      'gateway',
      { REDIS_URL: 'redis://127.0.0.1:6379', BUS_SERVICE_PUBLIC_KEYS: keys.publicKeys, LOG_LEVEL: 'silent' },
      { database: false, busServer: false, defaultPort: 3000 },
    );
    const def: ServiceDefinition = {
      service: 'gateway',
      database: false,
      busServer: false,
      defaultPort: 3000,
      module: (c) => {
        @Module({ imports: [loggingModule(c)], controllers: [ProbeController, OtherController] })
        class TestModule {}
        return { module: TestModule };
      },
    };
    app = await createServiceApp(def, config);
    await app.listen(0, '127.0.0.1');
    const url = await app.getUrl();
    expect(requestStoreEnabled()).toBe(false);
    for (const path of ['/health/live', '/health/ready', '/health/live']) {
      const res = await fetch(`${url}${path}`);
      expect(res.status).toBe(200);
    }
    expect(requestStoreEnabled()).toBe(false);
    // Another route still gets its request-bound logger (the check above can fail).
    expect((await fetch(`${url}/whoami`)).status).toBe(200);
    expect(requestStoreEnabled()).toBe(true);
  });
});
