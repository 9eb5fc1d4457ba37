import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { QUEUE_NAMES } from '@broker/contracts';
import { closeConnection, createRedisConnection, reportQueueErrors } from '@broker/bus';
import { AccessTokenVerifier, RevocationStateUnavailableError } from '@broker/auth-kit';
import type { QueueDashboardConfig, ServiceConfig } from '@broker/service-runtime';
import {
  DASHBOARD_PATH,
  openSession,
  readSessionCookie,
  sealSession,
  sessionCookieName,
  sessionCookieOptions,
} from './dashboard-session';
import { RefusedRequest } from '../http/request-hygiene';
import { loginPage } from './login-page';
import { operatorAccess, OperatorAccess } from './operator-access';
import { readOnlyScripts } from './read-only-scripts';

/** The bull-board UI's own policy: its scripts and styles are files of its package, plus inline styles. */
const UI_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

const SAFE_METHODS = new Set(['GET', 'HEAD']);
const logger = new Logger('QueueBoard');
const TOKEN_SHAPE = /^[A-Za-z0-9_.-]{1,8192}$/;

/**
 * The queue dashboard (bull-board) at /admin/queues, when QUEUE_DASHBOARD is not `off`
 * (docs/queue-dashboard.md). Plain Fastify routes, not Nest controllers, so nothing of it enters
 * the OpenAPI document. Its queues are read through a connection of their own, which in `read`
 * mode sends scripts read-only (the gateway's Redis user then holds read-only key rights).
 */
export async function installQueueBoard(app: NestFastifyApplication, config: ServiceConfig): Promise<void> {
  const board = config.queueDashboard;
  if (!board) return;
  // Loaded only when on: a gateway without the dashboard does not load bull-board (nor the ESM-only
  // dependency of its @fastify/static, which jest's CommonJS runtime cannot require).
  const [{ createBullBoard }, { BullMQAdapter }, { FastifyAdapter }] = await Promise.all([
    import('@bull-board/api'),
    import('@bull-board/api/bullMQAdapter'),
    import('@bull-board/fastify'),
  ]);
  const redis = createRedisConnection(config.redisUrl, `${config.service}:queue-board`, {
    maxRetriesPerRequest: 1,
  });
  if (board.mode === 'read') readOnlyScripts(redis);
  const queues = QUEUE_NAMES.map((name) => {
    // skipMetasUpdate: a producer writes the queue's metadata; the dashboard only reads.
    const queue = new Queue(name, {
      connection: redis,
      prefix: `${config.bus.prefix}:jobs`,
      skipMetasUpdate: true,
    });
    reportQueueErrors(queue, `queue-board ${name}`);
    return queue;
  });
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: board.mode === 'read' })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Broker queues' } },
  });
  // bull-board's own handler answers an error with its message, and its stack when
  // NODE_ENV=development (npm start): a failure is logged here and answered in a few fixed words.
  serverAdapter.setErrorHandler((error: Error & { statusCode?: number }) => {
    // A body the gateway's parsers refused (RefusedRequest, or JSON that does not parse) is the client's.
    const code =
      error instanceof RefusedRequest
        ? error.status
        : error instanceof SyntaxError
          ? 400
          : (error.statusCode ?? 500);
    const status = code === 404 ? 404 : code >= 400 && code < 500 ? 400 : 500;
    if (status === 500) logger.warn(`dashboard request failed: ${error.message}`);
    return {
      status,
      body: {
        error: status === 500 ? 'internal_error' : status === 404 ? 'not_found' : 'bad_request',
        message:
          status === 500
            ? 'The queues could not be read; try again.'
            : status === 404
              ? 'Not found.'
              : 'The request is not valid.',
      },
    };
  });
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onClose', async () => {
    await Promise.all(queues.map((q) => q.close().catch(() => undefined)));
    await closeConnection(redis);
  });
  const session = new DashboardSessions(() => app.get(AccessTokenVerifier), board, config.publicUrl);
  await app.register(
    async (scope: FastifyInstance) => {
      scope.get('/login', (_request, reply) => session.loginForm(reply, 200));
      scope.post('/login', (request, reply) => session.login(request, reply));
      scope.post('/logout', (request, reply) => session.logout(request, reply));
      await scope.register(async (guarded: FastifyInstance) => {
        guarded.addHook('onRequest', (request, reply) => session.guard(request, reply));
        await guarded.register(serverAdapter.registerPlugin());
      });
    },
    { prefix: DASHBOARD_PATH },
  );
}

/** Sign-in, sign-out and the check every dashboard request passes. */
class DashboardSessions {
  private readonly cookie: string;
  private readonly origin: string;

  constructor(
    private readonly verifier: () => AccessTokenVerifier,
    private readonly board: QueueDashboardConfig,
    private readonly publicUrl: string,
  ) {
    this.cookie = sessionCookieName(publicUrl);
    this.origin = new URL(publicUrl).origin;
  }

  loginForm(reply: FastifyReply, status: number, message?: string): FastifyReply {
    return reply
      .code(status)
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(loginPage(reply.cspNonce, message));
  }

  /** POST /login: the token from the form body only (never the query), checked as the API checks it. */
  async login(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    if (!this.sameOrigin(request)) return this.loginForm(reply, 403, 'Sign in from this page.');
    const body = request.body as Record<string, unknown> | undefined;
    const token = typeof body?.['access_token'] === 'string' ? body['access_token'].trim() : '';
    if (!TOKEN_SHAPE.test(token)) return this.loginForm(reply, 400, 'Paste an access token.');
    const access = await this.check(token, reply);
    if (access === undefined) return reply;
    if (typeof access === 'string')
      return this.loginForm(
        reply,
        access === 'invalid-token' ? 401 : 403,
        access === 'invalid-token'
          ? 'This token is not valid (expired, revoked or not issued by this broker).'
          : 'This token does not open the queue dashboard: it needs the queues:dashboard scope on a client of the operator org.',
      );
    const exp = access.claims.exp * 1000;
    const sealed = await sealSession(this.board.sessionKey, token, access.claims.exp);
    return reply
      .setCookie(this.cookie, sealed, sessionCookieOptions(this.publicUrl, exp))
      .header('cache-control', 'no-store')
      .redirect(`${DASHBOARD_PATH}/`, 303);
  }

  /** POST /logout: the cookie is cleared (same-origin only, as every state change). */
  logout(request: FastifyRequest, reply: FastifyReply): FastifyReply {
    if (!this.sameOrigin(request)) return refuse(reply, 403, 'forbidden', 'Cross-origin request refused.');
    return reply.clearCookie(this.cookie, { path: DASHBOARD_PATH }).redirect(`${DASHBOARD_PATH}/login`, 303);
  }

  /**
   * Before every dashboard route: a session cookie that opens and whose token still verifies (the
   * revocation list is read on every request), else 401 (API, assets) or a redirect to sign-in
   * (pages). A state change must come from the dashboard's own origin (CSRF) and be allowed: the
   * session holds `queues:operate` and QUEUE_DASHBOARD=operate.
   */
  async guard(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const value = readSessionCookie(request, this.cookie);
    const token = value ? await openSession(this.board.sessionKey, value) : undefined;
    const access = token ? await this.check(token, reply) : 'invalid-token';
    if (access === undefined) return;
    if (typeof access === 'string') {
      if (value) reply.clearCookie(this.cookie, { path: DASHBOARD_PATH });
      if (SAFE_METHODS.has(request.method) && !isApiOrAsset(request.url)) {
        reply.header('cache-control', 'no-store').redirect(`${DASHBOARD_PATH}/login`, 303);
        return;
      }
      refuse(reply, 401, 'unauthorized', `Sign in at ${DASHBOARD_PATH}/login.`);
      return;
    }
    if (!SAFE_METHODS.has(request.method)) {
      if (!this.sameOrigin(request)) {
        refuse(reply, 403, 'forbidden', 'Cross-origin request refused.');
        return;
      }
      if (this.board.mode !== 'operate' || !access.mayOperate) {
        refuse(
          reply,
          403,
          'read_only',
          this.board.mode !== 'operate'
            ? 'The queue dashboard is read-only (QUEUE_DASHBOARD=read).'
            : 'Actions need the queues:operate scope.',
        );
        return;
      }
    }
    reply.header('Content-Security-Policy', UI_CSP).header('cache-control', 'no-store');
  }

  /** The token's operator access; undefined when the answer was already sent (503: revocation state unknown). */
  private async check(
    token: string,
    reply: FastifyReply,
  ): Promise<OperatorAccess | 'invalid-token' | 'not-operator' | undefined> {
    try {
      return await operatorAccess(this.verifier(), this.board.operatorOrgId, token);
    } catch (err) {
      if (!(err instanceof RevocationStateUnavailableError)) throw err;
      // Fail closed: whether the token was revoked cannot be told right now.
      refuse(reply, 503, 'temporarily_unavailable', 'Try again shortly.');
      return undefined;
    }
  }

  /** A state change's Origin is the broker's own (browsers send it on every POST, PUT, PATCH, DELETE). */
  private sameOrigin(request: FastifyRequest): boolean {
    return request.headers.origin === this.origin;
  }
}

function isApiOrAsset(url: string): boolean {
  const path = url.split('?', 1)[0] ?? '';
  return path.startsWith(`${DASHBOARD_PATH}/api/`) || path.startsWith(`${DASHBOARD_PATH}/static/`);
}

function refuse(reply: FastifyReply, status: number, error: string, message: string): FastifyReply {
  return reply.code(status).header('cache-control', 'no-store').send({ error, message });
}
