import { Controller, Get, INestApplication, Ip, Module } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { testBusKeys } from '@broker/testing';
import { ServiceDefinition, createServiceApp } from '../src/lib/bootstrap';
import { loadServiceConfig } from '../src/lib/config/service-config';
import { loggingModule } from '../src/lib/logging/logging.module';

@Controller('whoami')
class WhoAmIController {
  @Get()
  ip(@Ip() ip: string): { ip: string } {
    return { ip };
  }
}

const keys = testBusKeys();

function configWith(trustProxyHops: number) {
  return loadServiceConfig(
    'gateway',
    {
      REDIS_URL: 'redis://127.0.0.1:6379',
      BUS_SERVICE_PUBLIC_KEYS: keys.publicKeys,
      TRUST_PROXY_HOPS: String(trustProxyHops),
      LOG_LEVEL: 'silent',
    },
    { database: false, busServer: false, defaultPort: 3000 },
  );
}

function definition(http: 'express' | 'fastify'): ServiceDefinition {
  const base = { service: 'gateway', database: false, busServer: false, defaultPort: 3000 } as const;
  const module = (config: ReturnType<typeof configWith>) => {
    @Module({ imports: [loggingModule(config)], controllers: [WhoAmIController] })
    class TestModule {}
    return { module: TestModule };
  };
  return http === 'fastify' ? { ...base, http, module } : { ...base, module };
}

describe('runService: the HTTP adapter a service chooses', () => {
  const apps: INestApplication[] = [];
  afterAll(async () => {
    for (const app of apps) await app.close();
  });

  async function started(http: 'express' | 'fastify', hops: number): Promise<INestApplication> {
    const app = await createServiceApp(definition(http), configWith(hops));
    apps.push(app);
    await app.init();
    return app;
  }

  it('runs a service on Fastify when its definition says so, and on Express otherwise', async () => {
    expect((await started('fastify', 0)).getHttpAdapter().getType()).toBe('fastify');
    expect((await started('express', 0)).getHttpAdapter().getType()).toBe('express');
  });

  it('takes the client address from X-Forwarded-For only through TRUST_PROXY_HOPS proxies on Fastify, as on Express', async () => {
    const forwarded = { 'x-forwarded-for': '203.0.113.9, 198.51.100.7' };
    const onFastify = async (hops: number) => {
      const fastify = (await started('fastify', hops)).getHttpAdapter().getInstance() as FastifyInstance;
      const res = await fastify.inject({ method: 'GET', url: '/whoami', headers: forwarded });
      return (res.json() as { ip: string }).ip;
    };
    const onExpress = async (hops: number) => {
      const app = await started('express', hops);
      await app.listen(0, '127.0.0.1');
      const res = await fetch(`${await app.getUrl()}/whoami`, { headers: forwarded });
      return ((await res.json()) as { ip: string }).ip.replace(/^::ffff:/, '');
    };
    for (const ipOn of [onFastify, onExpress]) {
      // No trusted proxy: the peer itself, whatever the header claims.
      expect(await ipOn(0)).toBe('127.0.0.1');
      // One trusted hop: the address that proxy saw (the header's last entry), not the client's claim.
      expect(await ipOn(1)).toBe('198.51.100.7');
      expect(await ipOn(2)).toBe('203.0.113.9');
    }
  });
});
