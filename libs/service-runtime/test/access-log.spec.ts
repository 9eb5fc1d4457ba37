import { Controller, Get, HttpCode, INestApplication, Logger, Module, Post, Redirect } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { connect } from 'node:net';
import { testBusKeys } from '@broker/testing';
import { ServiceDefinition, createServiceApp } from '../src/lib/bootstrap';
import { loadServiceConfig } from '../src/lib/config/service-config';
import { loggingModule, useLogDestination } from '../src/lib/logging/logging.module';

const SECRET = 'sEcReT-0123456789abcdef';
const lines: string[] = [];
// Every log line of the apps built here (the app's logger and the access log share the stream).
useLogDestination({ write: (line: string) => void lines.push(line) });

@Controller()
class ProbeController {
  private readonly logger = new Logger('Probe');

  @Post('things')
  @HttpCode(201)
  make(): { made: boolean } {
    this.logger.log('making a thing');
    return { made: true };
  }

  @Get('redirect')
  @Redirect()
  redirect(): { url: string; statusCode: number } {
    // An authorization response: the code and state in the Location.
    return { url: `https://app.example/cb?code=${SECRET}&state=${SECRET}&x=1`, statusCode: 302 };
  }

  @Get('boom')
  boom(): never {
    throw new Error('broken');
  }

  @Get('slow')
  async slow(): Promise<{ late: true }> {
    await new Promise((r) => setTimeout(r, 300));
    return { late: true };
  }

  @Get('health/live')
  live(): { ok: true } {
    return { ok: true };
  }
}

const keys = testBusKeys();

function definition(http: 'express' | 'fastify'): ServiceDefinition {
  const base = { service: 'gateway', database: false, busServer: false, defaultPort: 3000 } as const;
  const module = (config: ReturnType<typeof loadServiceConfig>) => {
    @Module({ imports: [loggingModule(config)], controllers: [ProbeController] })
    class TestModule {}
    return { module: TestModule };
  };
  return http === 'fastify' ? { ...base, http, module } : { ...base, module };
}

const config = () =>
  loadServiceConfig(
    'gateway',
    { REDIS_URL: 'redis://127.0.0.1:6379', BUS_SERVICE_PUBLIC_KEYS: keys.publicKeys, LOG_LEVEL: 'info' },
    { database: false, busServer: false, defaultPort: 3000 },
  );

type Line = Record<string, unknown> & {
  msg?: string;
  req?: { id?: unknown; method?: string; url?: string; headers?: Record<string, unknown> };
  res?: { statusCode?: number; headers?: Record<string, string> };
};
const parsed = (): Line[] =>
  lines
    .join('')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);
const accessLines = () =>
  parsed().filter((l) => l.msg === 'request completed' || l.msg === 'request errored');

describe('the access log (Fastify hooks on the gateway, pino-http on Express)', () => {
  const apps: INestApplication[] = [];
  afterAll(async () => {
    for (const app of apps) await app.close();
  });

  // Each stack gets the same requests; Express is the reference the Fastify hooks must match.
  async function send(http: 'express' | 'fastify'): Promise<void> {
    const app = await createServiceApp(definition(http), config());
    apps.push(app);
    await app.listen(0, '127.0.0.1');
    const base = await app.getUrl();
    const fetchOn = (path: string, init?: RequestInit) =>
      fetch(`${base.replace('[::1]', '127.0.0.1')}${path}`, { redirect: 'manual', ...init });
    const made = await fetchOn(`/things?access_token=${SECRET}&page=2`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${SECRET}`,
        'refreshed-token': SECRET,
        cookie: `session=${SECRET}`,
        'x-request-id': 'abc-1',
        'user-agent': 'probe/1',
      },
    });
    expect(made.status).toBe(201);
    const moved = await fetchOn('/redirect');
    expect(moved.status).toBe(302);
    expect((await fetchOn('/boom')).status).toBe(500);
    expect((await fetchOn('/health/live')).status).toBe(200);
    // The lines are written once the answer is sent: wait for the four requests' lines.
    for (let i = 0; i < 100 && accessLines().length < 3; i++) await new Promise((r) => setTimeout(r, 10));
  }

  it('writes one line per request with the same fields as pino-http, secrets redacted, /health not logged', async () => {
    const byStack: Record<string, Line[]> = {};
    for (const http of ['express', 'fastify'] as const) {
      lines.length = 0;
      await send(http);
      byStack[http] = parsed();
    }
    for (const http of ['express', 'fastify'] as const) {
      const all = byStack[http];
      const text = JSON.stringify(all);
      // Not once: not in the URL, a header, a redirect's Location, the app's own line.
      expect(text).not.toContain(SECRET);
      const access = all.filter((l) => l.msg === 'request completed' || l.msg === 'request errored');
      expect(access.map((l) => `${l.req?.method} ${l.req?.url?.split('?')[0]} ${l.res?.statusCode}`)).toEqual(
        ['POST /things 201', 'GET /redirect 302', 'GET /boom 500'],
      );
      const [made, moved, boom] = access;
      expect(made).toMatchObject({
        level: 30,
        service: 'gateway',
        req: {
          method: 'POST',
          url: '/things?access_token=%5Bredacted%5D&page=2',
          headers: { 'x-request-id': 'abc-1', 'user-agent': 'probe/1' },
        },
        res: { statusCode: 201 },
      });
      expect(made.req?.id).toBeDefined();
      expect(typeof made['responseTime']).toBe('number');
      // Only the picked headers: the credentials are not there at all.
      expect(Object.keys(made.req?.headers ?? {})).not.toEqual(expect.arrayContaining(['authorization']));
      expect(made.req?.headers).not.toHaveProperty('cookie');
      expect(made.req?.headers).not.toHaveProperty('refreshed-token');
      expect(moved.res?.headers?.['location']).toBe(
        'https://app.example/cb?code=%5Bredacted%5D&state=%5Bredacted%5D&x=1',
      );
      expect(boom).toMatchObject({ msg: 'request errored', err: { message: 'failed with status code 500' } });
      // The app's own line written during the request is bound to the request, as before.
      const own = all.find((l) => l.msg === 'making a thing');
      expect(own).toMatchObject({
        req: { method: 'POST', url: '/things?access_token=%5Bredacted%5D&page=2' },
      });
      expect(own?.req?.id).toBe(made.req?.id);
    }
    // The same fields on both stacks (values that differ by nature aside).
    const shape = (l: Line) => ({ ...l, time: 0, responseTime: 0, req: { ...l.req, id: 0 } });
    const access = (http: string) => byStack[http].filter((l) => l.req && l.msg !== 'making a thing');
    expect(
      access('fastify')
        .map(shape)
        .map((l) => Object.keys(l).sort()),
    ).toEqual(
      access('express')
        .map(shape)
        .map((l) => Object.keys(l).sort()),
    );
  });

  it('runs no Nest middleware on Fastify: the access log is not also written by pino-http', async () => {
    lines.length = 0;
    const app = await createServiceApp(definition('fastify'), config());
    apps.push(app);
    await app.init();
    const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
    const res = await fastify.inject({ method: 'POST', url: '/things' });
    expect(res.statusCode).toBe(201);
    await new Promise((r) => setTimeout(r, 20));
    expect(accessLines()).toHaveLength(1);
  });

  it('logs a request whose client left before the answer, with its secrets redacted', async () => {
    const app = await createServiceApp(definition('fastify'), config());
    apps.push(app);
    await app.listen(0, '127.0.0.1');
    const port = new URL((await app.getUrl()).replace('[::1]', '127.0.0.1')).port;
    lines.length = 0;
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(`GET /slow?code=${SECRET} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${SECRET}\r\n\r\n`);
    await new Promise((r) => setTimeout(r, 50));
    socket.destroy();
    for (let i = 0; i < 100 && !parsed().some((l) => l.msg === 'request aborted'); i++)
      await new Promise((r) => setTimeout(r, 10));
    const aborted = parsed().filter((l) => l.msg === 'request aborted');
    expect(aborted).toHaveLength(1);
    expect(aborted[0]).toMatchObject({ req: { method: 'GET', url: '/slow?code=%5Bredacted%5D' } });
    await new Promise((r) => setTimeout(r, 400)); // the handler finishes: no second line for it
    expect(parsed().filter((l) => l.req?.url?.startsWith('/slow'))).toHaveLength(1);
    expect(JSON.stringify(parsed())).not.toContain(SECRET);
  });
});
