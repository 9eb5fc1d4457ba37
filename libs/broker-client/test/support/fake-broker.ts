import { randomBytes } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { Controller, Inject, INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import IORedis from 'ioredis';
import { BusContext, BusException, BusServer } from '@broker/bus';
import {
  AcquireTokenRequest,
  AcquiredToken,
  BrokerEvent,
  BusEvent,
  brokerEventsChannel,
} from '@broker/contracts';
import { testRedisUrl, uniquePrefix } from '@broker/testing';
import {
  generateEventSigningKey,
  generateServiceKey,
  parseEventSigningKey,
  parseServicePrivateKeys,
  signEvent,
} from '@broker/bus-protocol';

/** One authorization the fake broker knows. */
export interface FakeAuthorization {
  userId: string;
  providerId: string;
  /** Lifetime of the tokens it hands out (s); undefined: tokens without expiresAt. */
  lifetimeSeconds?: number;
  /** Answer with this error instead of a token. */
  error?: 'GONE' | 'NOT_FOUND' | 'FORBIDDEN' | 'CONFLICT';
}

export interface BusCall {
  request: AcquireTokenRequest;
  auth: string | undefined;
}

/** State of the fake broker, shared by its bus handler, its token endpoint and the test. */
export class FakeBrokerState {
  readonly authorizations = new Map<string, FakeAuthorization>();
  readonly busCalls: BusCall[] = [];
  /** Own tokens the token endpoint issued and the bus still accepts. */
  readonly validOwnTokens = new Set<string>();
  readonly issuedOwnTokens: string[] = [];
  tokenEndpointCalls = 0;
  /** expires_in of the own tokens it issues (s). */
  ownTokenLifetimeSeconds = 3600;
  /** Delay of the token endpoint's answer (ms). */
  tokenEndpointDelayMs = 0;
  /** When set, the bus handler waits for it before answering (a stuck broker). */
  gate?: Promise<void>;
  /** Extra text the handler's error messages carry (to check that a token in it is redacted). */
  errorMessageSuffix = '';
  private releaseGate?: () => void;
  private tokenSeq = 0;

  reset(): void {
    this.authorizations.clear();
    this.busCalls.length = 0;
    this.validOwnTokens.clear();
    this.issuedOwnTokens.length = 0;
    this.tokenEndpointCalls = 0;
    this.ownTokenLifetimeSeconds = 3600;
    this.tokenEndpointDelayMs = 0;
    this.errorMessageSuffix = '';
    this.release();
  }

  /** Makes the bus handler hang until `release()`. */
  hold(): void {
    this.gate = new Promise((resolve) => (this.releaseGate = resolve));
  }

  release(): void {
    this.releaseGate?.();
    this.releaseGate = undefined;
    this.gate = undefined;
  }

  /** Refuses every own token issued so far (as after a rotation of the broker's signing keys). */
  rotateKeys(): void {
    this.validOwnTokens.clear();
  }

  issueOwnToken(): string {
    const token = `own-${this.issuedOwnTokens.length + 1}-${randomBytes(6).toString('hex')}`;
    this.issuedOwnTokens.push(token);
    this.validOwnTokens.add(token);
    return token;
  }

  /** What the broker answers to tokens.acquire (after the caller's token was accepted). */
  answer(request: AcquireTokenRequest): AcquiredToken {
    let id = request.authorizationId;
    if (id === undefined) {
      id = [...this.authorizations].find(
        ([, a]) => a.userId === request.userId && a.providerId === request.providerId,
      )?.[0];
    }
    const authorization = id === undefined ? undefined : this.authorizations.get(id);
    if (id === undefined || !authorization)
      throw new BusException('NOT_FOUND', `no such authorization${this.errorMessageSuffix}`);
    if (authorization.error)
      throw new BusException(authorization.error, `authorization ${id} refused${this.errorMessageSuffix}`);
    const token: AcquiredToken = {
      accessToken: `provider-token-${id}-${++this.tokenSeq}`,
      tokenType: 'Bearer',
      attenuated: false,
      authorizationId: id,
      providerId: authorization.providerId,
      userId: authorization.userId,
      scopes: ['repo'],
    };
    if (authorization.lifetimeSeconds !== undefined) {
      token.expiresAt = new Date(Date.now() + authorization.lifetimeSeconds * 1000).toISOString();
    }
    return token;
  }
}

const STATE = Symbol('FAKE_BROKER_STATE');

@Controller()
class FakeTokensController {
  constructor(@Inject(STATE) private readonly state: FakeBrokerState) {}

  @MessagePattern('identity.jwks')
  jwks(): { keys: [] } {
    return { keys: [] };
  }

  @MessagePattern('tokens.acquire')
  async acquire(@Payload() request: AcquireTokenRequest, @Ctx() ctx: BusContext): Promise<AcquiredToken> {
    const auth = ctx.getAuth();
    this.state.busCalls.push({ request, auth });
    if (!auth || !this.state.validOwnTokens.has(auth)) {
      throw new BusException('UNAUTHENTICATED', `access token refused: ${auth ?? 'none'} is not valid`);
    }
    if (this.state.gate) await this.state.gate;
    return this.state.answer(request);
  }
}

export interface FakeBroker {
  state: FakeBrokerState;
  redisUrl: string;
  /** What a consumer is given: the token-broker's public key and the events keys. */
  brokerPublicKey: string;
  eventsPublicKeys: string;
  prefix: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Publishes an event signed with the broker's events key (missing fields filled in), or any raw message. */
  publish(event: Partial<BrokerEvent> | string): Promise<void>;
  /** A complete event as the broker would send it, unsigned (what anyone on Redis could publish). */
  event(fields: Partial<BrokerEvent>): BrokerEvent;
  /** The message the broker would publish for an event (signed), without publishing it. */
  sign(event: BusEvent): string;
  /** A fresh Redis connection for the test's own use (closed with the broker). */
  redis(): IORedis;
  close(): Promise<void>;
}

/** A fake token-broker: a Nest microservice on the bus answering tokens.acquire, and a token endpoint. */
export async function startFakeBroker(label: string): Promise<FakeBroker> {
  const state = new FakeBrokerState();
  const redisUrl = testRedisUrl();
  const serviceKey = generateServiceKey('b1');
  const signing = generateEventSigningKey('e1');
  const signingKey = parseEventSigningKey(signing.privateKey);
  const prefix = uniquePrefix(label);
  const clientId = 'svc-client';
  const clientSecret = `secret:${randomBytes(6).toString('hex')} +&`;

  @Module({ controllers: [FakeTokensController], providers: [{ provide: STATE, useValue: state }] })
  class FakeBrokerModule {}

  const app: INestMicroservice = await NestFactory.createMicroservice(FakeBrokerModule, {
    strategy: new BusServer({
      redisUrl,
      keys: parseServicePrivateKeys(serviceKey.privateKey),
      prefix,
      service: 'token-broker',
    }),
    logger: false,
  });
  await app.listen();

  const server = createServer((req, res) => void handleTokenRequest(state, clientId, clientSecret, req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const connections: IORedis[] = [];
  const redis = (): IORedis => {
    const connection = new IORedis(redisUrl, { maxRetriesPerRequest: 1 });
    connections.push(connection);
    return connection;
  };
  const publisher = redis();

  return {
    state,
    redisUrl,
    brokerPublicKey: serviceKey.publicKey,
    eventsPublicKeys: signing.publicKey,
    prefix,
    tokenUrl: `http://127.0.0.1:${port}/api/v1/oauth/token`,
    clientId,
    clientSecret,
    redis,
    event: fullEvent,
    sign: (event) => signEvent(signingKey, event),
    async publish(event) {
      await publisher.publish(
        brokerEventsChannel(prefix),
        typeof event === 'string' ? event : signEvent(signingKey, fullEvent(event)),
      );
    },
    async close() {
      state.release();
      await app.close();
      await closeServer(server);
      await Promise.all(connections.map((c) => c.quit().catch(() => undefined)));
    },
  };
}

function fullEvent(fields: Partial<BrokerEvent>): BrokerEvent {
  return {
    type: 'authorization.revoked',
    orgId: 'org-1',
    authorizationId: 'auth-1',
    providerId: 'github',
    userId: 'user-1',
    status: 'active',
    at: new Date().toISOString(),
    ...fields,
  };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function handleTokenRequest(
  state: FakeBrokerState,
  clientId: string,
  clientSecret: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const send = (status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  state.tokenEndpointCalls++;
  if (state.tokenEndpointDelayMs > 0)
    await new Promise((resolve) => setTimeout(resolve, state.tokenEndpointDelayMs));
  if (req.method !== 'POST' || req.url !== '/api/v1/oauth/token') return send(404, { error: 'not_found' });
  const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  const [id, secret] = basic
    ? Buffer.from(basic, 'base64')
        .toString('utf8')
        .split(':')
        .map((p) => decodeURIComponent(p.replace(/\+/g, ' ')))
    : [];
  if (id !== clientId || secret !== clientSecret) {
    return send(401, {
      error: 'invalid_client',
      error_description: `client authentication failed for ${secret ?? ''}`,
    });
  }
  if (form.get('grant_type') !== 'client_credentials')
    return send(400, { error: 'unsupported_grant_type', error_description: 'no' });
  if (!(form.get('scope') ?? '').split(' ').includes('tokens:read'))
    return send(400, { error: 'invalid_scope', error_description: 'no' });
  send(200, {
    access_token: state.issueOwnToken(),
    token_type: 'Bearer',
    expires_in: state.ownTokenLifetimeSeconds,
    scope: 'tokens:read',
  });
}

/** Polls `check` until it holds, failing after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs = 3_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
