import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import type { OAuthProvider } from '@broker/contracts';
import { resolveProvider, type ResolvedProvider } from '@broker/provider-adapters';
import type { ProviderCredentials } from '../../src';

type Answer = { status?: number; body: Record<string, unknown> };

/**
 * A provider on loopback with a token endpoint, a device authorization endpoint and a userinfo
 * endpoint, each answering what the test scripts (`token`, `device`); every token request is kept.
 */
export class FakeProvider {
  readonly tokenRequests: URLSearchParams[] = [];
  token: (form: URLSearchParams) => Answer = () => ({ status: 400, body: { error: 'invalid_request' } });
  device: () => Answer = () => ({
    body: {
      device_code: 'dc-1',
      user_code: 'ABCD-EFGH',
      verification_uri: 'https://provider.test/device',
      expires_in: 600,
      interval: 5,
    },
  });
  private server?: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer(async (req, res) => {
      const form = new URLSearchParams(await read(req));
      let answer: Answer;
      if (req.url === '/token') {
        this.tokenRequests.push(form);
        answer = this.token(form);
      } else if (req.url === '/device') answer = this.device();
      else if (req.url === '/me')
        answer = { body: { sub: 'u-1', name: 'Ada Lovelace', preferred_username: 'ada' } };
      else answer = { status: 404, body: { error: 'not_found' } };
      res
        .writeHead(answer.status ?? 200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(JSON.stringify(answer.body));
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  resolved(): ResolvedProvider {
    const port = Number(new URL(this.url).port);
    return resolveProvider(
      'oauth2',
      {
        endpoints: {
          authorizationUrl: `${this.url}/authorize`,
          tokenUrl: `${this.url}/token`,
          userinfoUrl: `${this.url}/me`,
          deviceAuthorizationUrl: `${this.url}/device`,
        },
      },
      { allowLoopback: true, allowedPorts: [port] },
    );
  }

  credentials(id: string): ProviderCredentials {
    return { provider: fakeProviderRow(id), resolved: this.resolved(), clientSecret: 'client-secret' };
  }
}

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => resolve(body));
  });
}

/** The registry's row of the fake provider (an active `oauth2` provider of org `org`). */
export function fakeProviderRow(id: string): OAuthProvider {
  return {
    id,
    orgId: 'org',
    name: 'Fake',
    type: 'oauth2',
    status: 'active',
    clientId: 'client',
    customScopes: [],
    skipConsent: false,
  } as unknown as OAuthProvider;
}
