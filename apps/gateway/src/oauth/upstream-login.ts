import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import IORedis from 'ioredis';
import { CompactEncrypt, compactDecrypt } from 'jose';
import { AuthenticateOptions, Authenticator } from 'passport';
import { Strategy as OAuth2Strategy } from 'passport-oauth2';
import { createRedisConnection } from '@broker/bus';
import type { AuthorizeRequest } from '@broker/contracts';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';

/** How long a person has to finish signing in upstream. */
export const LOGIN_TTL_SECONDS = 600;

/** What passport hands back once the upstream code exchange succeeded. */
export interface UpstreamLogin {
  accessToken: string;
}

/** The outcome of the upstream callback: the original authorization request travels with it. */
export type UpstreamCallbackOutcome =
  | { kind: 'signed-in'; login: UpstreamLogin; authorization: AuthorizeRequest }
  | { kind: 'failed'; authorization: AuthorizeRequest; reason: string }
  | { kind: 'unknown-login' };

interface PendingLogin {
  verifier: string;
  authorization: AuthorizeRequest;
}

type LoginRequest = FastifyRequest & { pendingAuthorization?: AuthorizeRequest };

/**
 * The person's sign-in at the upstream identity provider, run by passport-oauth2 (authorization
 * code + PKCE). Between the redirect and the callback, the original authorization request and the
 * PKCE verifier wait in Redis under the hash of the 256-bit `state` handle, encrypted with a key
 * derived from that handle: Redis alone never holds the verifier in clear, and only the browser
 * holding the handle can bring the login back. Each handle is used once (GETDEL).
 */
@Injectable()
export class UpstreamLoginService implements OnApplicationShutdown {
  private readonly redis: IORedis;
  private readonly passport = new Authenticator();
  private readonly keyPrefix: string;
  readonly callbackUrl: string;
  readonly configured: boolean;

  constructor(@Inject(SERVICE_CONFIG) config: ServiceConfig) {
    this.redis = createRedisConnection(config.redisUrl, 'gateway:upstream-login', {
      maxRetriesPerRequest: 1,
    });
    this.keyPrefix = `${config.bus.prefix}:login:`;
    this.callbackUrl = `${config.publicUrl}/api/v1/oauth/upstream/callback`;
    const upstream = config.upstreamLogin;
    this.configured = upstream !== undefined;
    if (upstream) {
      const strategy = new OAuth2Strategy(
        {
          authorizationURL: upstream.authorizationUrl,
          tokenURL: upstream.tokenUrl,
          clientID: upstream.clientId,
          clientSecret: upstream.clientSecret,
          callbackURL: this.callbackUrl,
          scope: upstream.scope.split(/\s+/),
          pkce: true,
          state: true,
          // @types/passport-oauth2 lacks the PKCE (five-argument) store shape that passport-oauth2 calls.
          store: this.stateStore() as never,
          skipUserProfile: true,
        },
        (
          accessToken: string,
          _refreshToken: string,
          _profile: unknown,
          done: (err: unknown, user?: UpstreamLogin) => void,
        ) => done(null, { accessToken }),
      );
      this.passport.use('upstream', strategy);
    }
  }

  /** Sends the browser to the upstream sign-in for this (already checked) authorization request. */
  start(req: FastifyRequest, res: FastifyReply, authorization: AuthorizeRequest): Promise<void> {
    return new Promise((resolve, reject) => {
      const next = (err?: unknown) => (err ? reject(err) : resolve());
      res.raw.once('finish', () => resolve());
      // passport-oauth2 ≥ 1.6 hands an object `state` to the state store (the types say string only).
      const options = { session: false, state: authorization } as unknown as AuthenticateOptions;
      this.passport.authenticate('upstream', options, (err: unknown) => (err ? reject(err) : resolve()))(
        req,
        passportResponse(res),
        next,
      );
    });
  }

  /** Handles the upstream redirect back: exchanges the code (passport) and returns the outcome. */
  async callback(req: FastifyRequest, res: FastifyReply): Promise<UpstreamCallbackOutcome> {
    const query = req.query as Record<string, unknown>;
    if (typeof query['error'] === 'string') {
      const pending = typeof query['state'] === 'string' ? await this.take(query['state']) : undefined;
      if (!pending) return { kind: 'unknown-login' };
      return {
        kind: 'failed',
        authorization: pending.authorization,
        reason: query['error'] === 'access_denied' ? 'access_denied' : 'upstream_error',
      };
    }
    const request = req as LoginRequest;
    return new Promise((resolve) => {
      const done = (err: unknown, user: UpstreamLogin | false | undefined) => {
        const authorization = request.pendingAuthorization;
        if (!authorization) return resolve({ kind: 'unknown-login' });
        if (err || !user) return resolve({ kind: 'failed', authorization, reason: 'upstream_error' });
        resolve({ kind: 'signed-in', login: user, authorization });
      };
      this.passport.authenticate('upstream', { session: false }, done)(
        req,
        passportResponse(res),
        (err?: unknown) => done(err ?? new Error('no outcome'), false),
      );
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }

  private stateStore() {
    // passport-oauth2 picks the call shape by arity: store(req, verifier, state, meta, cb) and
    // verify(req, handle, cb) with PKCE.
    return {
      store: (
        _req: FastifyRequest,
        verifier: string,
        authorization: AuthorizeRequest,
        _meta: unknown,
        cb: (err: unknown, handle?: string) => void,
      ) => {
        this.put({ verifier, authorization }).then(
          (handle) => cb(null, handle),
          (err: unknown) => cb(err),
        );
      },
      verify: (
        req: FastifyRequest,
        handle: unknown,
        cb: (err: unknown, ok: string | false, state?: unknown) => void,
      ) => {
        if (typeof handle !== 'string') return cb(null, false, { message: 'missing state' });
        this.take(handle).then(
          (pending) => {
            if (!pending) return cb(null, false, { message: 'unknown or expired sign-in' });
            (req as LoginRequest).pendingAuthorization = pending.authorization;
            cb(null, pending.verifier, pending.authorization);
          },
          (err: unknown) => cb(err, false),
        );
      },
    };
  }

  private async put(pending: PendingLogin): Promise<string> {
    const handle = randomBytes(32).toString('base64url');
    const sealed = await new CompactEncrypt(Buffer.from(JSON.stringify(pending)))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .encrypt(sealingKey(handle));
    await this.redis.set(this.redisKey(handle), sealed, 'EX', LOGIN_TTL_SECONDS);
    return handle;
  }

  private async take(handle: string): Promise<PendingLogin | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(handle)) return undefined;
    const sealed = await this.redis.getdel(this.redisKey(handle));
    if (!sealed) return undefined;
    try {
      const { plaintext } = await compactDecrypt(sealed, sealingKey(handle));
      return JSON.parse(Buffer.from(plaintext).toString('utf8')) as PendingLogin;
    } catch {
      return undefined;
    }
  }

  private redisKey(handle: string): string {
    return this.keyPrefix + createHash('sha256').update(handle).digest('hex');
  }
}

function sealingKey(handle: string): Uint8Array {
  return new Uint8Array(
    hkdfSync(
      'sha256',
      Buffer.from(handle, 'base64url'),
      Buffer.alloc(0),
      'oauth-broker/upstream-login/v1',
      32,
    ),
  );
}

/**
 * What passport writes a response with (its redirect: `statusCode`, `setHeader`, `end`), on the
 * Fastify reply, so the answer keeps the headers the gateway set on the reply (security headers,
 * no-store) and Fastify knows it was sent.
 */
function passportResponse(reply: FastifyReply) {
  return {
    get statusCode(): number {
      return reply.statusCode;
    },
    set statusCode(code: number) {
      reply.status(code);
    },
    setHeader: (name: string, value: string | number) => void reply.header(name, value),
    end: (body?: string) => void reply.send(body ?? ''),
  };
}
