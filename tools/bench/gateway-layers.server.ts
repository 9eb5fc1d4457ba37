// One layer of the gateway's HTTP stack as its own server, for gateway-layers.mjs: each answers
// POST /t with a token-shaped JSON (201), so the layers' CPU per request can be compared.
// Usage (tsx): gateway-layers.server.ts <variant> <port>; prints "ready" once listening.
//   node         bare Node http (the bench's hello-world)
//   fastify      bare Fastify, one route
//   nest         Nest + FastifyAdapter, one controller route
//   pinohttp     + the service logging module with the access log as Nest middleware (pino-http via middie): before
//   hooks        the same app built by the service bootstrap: the access log as Fastify hooks (after)
//   …+gw         + the gateway's own hooks (security headers, URL/charset checks, body parsers, @fastify/cookie)
import 'reflect-metadata';
import http from 'node:http';
import { Controller, HttpCode, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import Fastify from 'fastify';
import fastifyCookie from '@fastify/cookie';
import {
  ServiceConfig,
  ServiceDefinition,
  createServiceApp,
  loadServiceConfig,
  loggingModule,
  useLogDestination,
} from '@broker/service-runtime';
import { testBusKeys } from '@broker/testing';
// The gateway's hooks measured outside the app (the bench starts the real gateway elsewhere).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { installBodyParsers } from '../../apps/gateway/src/http/body-parsers';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { installRequestHygiene } from '../../apps/gateway/src/http/request-hygiene';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { installSecurityHeaders } from '../../apps/gateway/src/http/security-headers';

const ANSWER = {
  accessToken: `gho_${'x'.repeat(36)}`,
  expiresAt: '2026-12-04T05:00:00.000Z',
  tokenType: 'bearer',
  scopes: ['repo', 'read:user'],
  account: { id: '12345', login: 'someone' },
};

@Controller()
class TokenLikeController {
  @Post('t')
  @HttpCode(201)
  t(): typeof ANSWER {
    return ANSWER;
  }
}

type Listen = (port: number) => Promise<unknown>;

function nodeServer(): Listen {
  const body = JSON.stringify(ANSWER);
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(201, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  return (port) => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
}

async function gatewayHooks(app: NestFastifyApplication): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  installSecurityHeaders(fastify, 'http://127.0.0.1:3000');
  installRequestHygiene(fastify);
  installBodyParsers(fastify);
  await app.register(fastifyCookie, { hook: false });
}

async function serviceApp(variant: string): Promise<Listen> {
  // The lines are written (serialised) as in production, to a sink instead of stdout.
  useLogDestination({ write: () => undefined });
  const config = loadServiceConfig(
    'gateway',
    {
      REDIS_URL: 'redis://127.0.0.1:1',
      BUS_SERVICE_PUBLIC_KEYS: testBusKeys().publicKeys,
      LOG_LEVEL: 'info',
    },
    { database: false, busServer: false, defaultPort: 3000 },
  );
  const module = (c: ServiceConfig) => {
    @Module({ imports: [loggingModule(c)], controllers: [TokenLikeController] })
    class LayerModule {}
    return { module: LayerModule };
  };
  const gw = variant.endsWith('+gw');
  if (variant.startsWith('pinohttp')) {
    const app = await NestFactory.create<NestFastifyApplication>(module(config), new FastifyAdapter(), {
      bufferLogs: true,
      bodyParser: !gw,
    });
    if (gw) await gatewayHooks(app);
    return (port) => app.listen(port, '127.0.0.1');
  }
  const def: Extract<ServiceDefinition, { http: 'fastify' }> = {
    service: 'gateway',
    database: false,
    busServer: false,
    defaultPort: 3000,
    http: 'fastify',
    module,
    ...(gw ? { configureHttp: gatewayHooks } : {}),
  };
  const app = await createServiceApp(def, config);
  return (port) => app.listen(port, '127.0.0.1');
}

async function main(variant: string, port: number): Promise<void> {
  let listen: Listen;
  if (variant === 'node') listen = nodeServer();
  else if (variant === 'fastify') {
    const fastify = Fastify();
    fastify.post('/t', async (_req, reply) => reply.code(201).send(ANSWER));
    listen = (p) => fastify.listen({ port: p, host: '127.0.0.1' });
  } else if (variant === 'nest') {
    @Module({ controllers: [TokenLikeController] })
    class NestModule {}
    const app = await NestFactory.create<NestFastifyApplication>(NestModule, new FastifyAdapter(), {
      logger: false,
    });
    listen = (p) => app.listen(p, '127.0.0.1');
  } else listen = await serviceApp(variant);
  await listen(port);
  process.stdout.write('ready\n');
}

main(String(process.argv[2]), Number(process.argv[3])).catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
