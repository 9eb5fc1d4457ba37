import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { BrokerSystem } from './broker-system';
import { ServiceProcess, freePort } from './service-processes';

/** A broker with a worker, the demo provider registered as a deployment, and tokens for the admin and a person. */
export class SetupsSystem extends BrokerSystem {
  worker!: ServiceProcess;
  admin = '';
  /** A person's token (user `ada`), as a front end acting for her would hold. */
  ada = '';
  deploymentId = '';

  constructor(
    label: string,
    env: Record<string, string> = {},
    idpEnv: Record<string, string> = {},
    egressPorts: number[] = [],
  ) {
    super({
      label,
      providerClient: true,
      idpEnv,
      egressPorts,
      env: { SETUP_SWEEP_SECONDS: '1', WEBHOOK_RETRY_BASE_SECONDS: '1', BUS_TIMEOUT_MS: '15000', ...env },
    });
  }

  override async start(): Promise<this> {
    await super.start();
    this.worker = new ServiceProcess('worker', await freePort(), this.env).start();
    await this.worker.ready();
    this.admin = await this.adminToken();
    await this.users.upsert('default', {
      sub: 'ada',
      email: 'ada@example.test',
      givenName: 'Ada',
      familyName: 'Lovelace',
    });
    this.ada = await this.delegatedToken(this.admin, 'ada', [
      'setups:read',
      'setups:write',
      'authorizations:read',
      'authorizations:write',
      'tokens:read',
    ]);
    this.deploymentId = await this.registerDemoProvider(this.admin);
    return this;
  }

  override async stop(): Promise<void> {
    await this.worker?.stop();
    await super.stop();
  }

  override logs(): string {
    return super.logs() + (this.worker?.output.join('') ?? '');
  }

  setupsPath(id?: string): string {
    return `/api/v2/provider-deployments/${this.deploymentId}/oauth-setups${id ? `/${id}` : ''}`;
  }

  /** Creates a setup as `token` (default: ada); throws unless 201. */
  async createSetup(
    body: Record<string, unknown> = {},
    token = this.ada,
  ): Promise<{ id: string; url: string; status: string } & Record<string, unknown>> {
    const res = await this.api(this.setupsPath(), token, {
      method: 'POST',
      body: { name: 'Connect the demo provider', config: {}, ...body },
    });
    if (res.status !== 201) throw new Error(`setup not created: ${res.status} ${await res.text()}`);
    return (await res.json()) as { id: string; url: string; status: string };
  }
}

/** What a webhook receiver got: the raw body and the Standard Webhooks headers. */
export interface ReceivedWebhook {
  body: string;
  headers: Record<string, string>;
}

/** A local HTTP receiver of webhooks on 127.0.0.1 that can answer 500 ("down") for a while. */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** Every request, including those answered with an error. */
  attempts = 0;
  failing = false;
  private server?: Server;

  constructor(readonly port: number) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.attempts++;
        if (this.failing) {
          res.writeHead(500).end('down');
          return;
        }
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
        this.received.push({ body: Buffer.concat(chunks).toString('utf8'), headers });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve));
    if ((this.server.address() as AddressInfo).port !== this.port) throw new Error('receiver port mismatch');
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Waits until `predicate` holds over what was received (polling; bounded). */
  async waitFor(
    predicate: (r: ReceivedWebhook[]) => boolean,
    timeoutMs = 20_000,
  ): Promise<ReceivedWebhook[]> {
    const started = Date.now();
    while (!predicate(this.received)) {
      if (Date.now() - started > timeoutMs)
        throw new Error(
          `webhooks not received in ${timeoutMs} ms: ${JSON.stringify(this.received.map((r) => r.body))}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
    return this.received;
  }
}
