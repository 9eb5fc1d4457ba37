import {
  CanActivate,
  Controller,
  Get,
  INestApplication,
  Injectable,
  Module,
  Post,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import type { Server } from 'node:http';
import { metricsRegistry } from '../src/lib/metrics/metrics-registry';
import { RouteLabelGuard, observeHttpServer } from '../src/lib/metrics/http-metrics';

@Injectable()
class RefuseAll implements CanActivate {
  canActivate(): boolean {
    throw new UnauthorizedException();
  }
}

@Controller('api/things')
class ThingsController {
  @Get(':thingId')
  get(): { ok: true } {
    return { ok: true };
  }

  @Post(':thingId/secrets')
  @UseGuards(RefuseAll)
  guarded(): void {
    // never reached
  }
}

@Module({ controllers: [ThingsController], providers: [{ provide: APP_GUARD, useClass: RouteLabelGuard }] })
class TestModule {}

/** Counts of broker_http_request_duration_seconds by label set, from the registry's text. */
async function counts(): Promise<string[]> {
  const text = await metricsRegistry.metrics();
  return text.split('\n').filter((l) => l.startsWith('broker_http_request_duration_seconds_count'));
}

describe('HTTP metrics', () => {
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    app = await NestFactory.create(TestModule, { logger: false });
    await app.init();
    observeHttpServer(app.getHttpServer() as Server);
    await app.listen(0, '127.0.0.1');
    const address = (app.getHttpServer() as Server).address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });

  afterAll(() => app.close());

  it('labels requests by route template, method and status; never by raw path, even when a guard refuses', async () => {
    const secretish = 'tok_8c1fbd0e2a7b4c55';
    expect((await fetch(`${base}/api/things/${secretish}`)).status).toBe(200);
    expect((await fetch(`${base}/api/things/another-id`)).status).toBe(200);
    expect((await fetch(`${base}/api/things/${secretish}/secrets`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(`${base}/no/such/${secretish}`)).status).toBe(404);
    expect((await fetch(`${base}/api/things/x`, { method: 'PROPFIND' })).status).toBe(404);

    const lines = await counts();
    expect(lines).toEqual(
      expect.arrayContaining([
        'broker_http_request_duration_seconds_count{route="/api/things/:thingId",method="GET",status="200"} 2',
        'broker_http_request_duration_seconds_count{route="/api/things/:thingId/secrets",method="POST",status="401"} 1',
        'broker_http_request_duration_seconds_count{route="unmatched",method="GET",status="404"} 1',
        'broker_http_request_duration_seconds_count{route="unmatched",method="OTHER",status="404"} 1',
      ]),
    );
    expect(await metricsRegistry.metrics()).not.toContain(secretish);
  });
});
