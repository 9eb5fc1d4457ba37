import { BusClientProxy } from '@broker/bus';
import type { AcquiredToken } from '@broker/contracts';
import { ServiceProcess } from './service-processes';

/** One failed call of the load: what was called, through what, and why. */
export interface LoadFailure {
  what: string;
  at: number;
  error: string;
}

/**
 * A load balancer in front of the gateways, as a Kubernetes Service does it: it sends only to
 * replicas whose readiness probe last answered 200, and probes often (every `probeMs`), so a
 * replica that starts draining (503) leaves the rotation before it stops listening. It never
 * retries: a request it sent that fails is a failure.
 */
export class LoadBalancer {
  private readonly ready = new Set<number>();
  private next = 0;
  private probing?: Promise<void>;
  private stopped = false;

  /** `replicas()` is read on every probe and pick: a replaced replica is followed. */
  constructor(
    private readonly replicas: () => ServiceProcess[],
    private readonly probeMs = 200,
  ) {}

  start(): void {
    this.probing = (async () => {
      while (!this.stopped) {
        await Promise.all(
          this.replicas().map(async (r, i) => {
            const ok = await fetch(`${r.url}/health/ready`, { signal: AbortSignal.timeout(1_000) }).then(
              (res) => (void res.body?.cancel(), res.status === 200),
              () => false,
            );
            if (ok) this.ready.add(i);
            else this.ready.delete(i);
          }),
        );
        await new Promise((r) => setTimeout(r, this.probeMs));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.probing;
  }

  /** The base URL of the next replica in rotation (round robin); throws when none is. */
  pick(): string {
    const replicas = this.replicas();
    const inRotation = [...this.ready].filter((i) => i < replicas.length).sort();
    if (inRotation.length === 0) throw new Error('no gateway in rotation');
    return replicas[inRotation[this.next++ % inRotation.length]].url;
  }
}

/** Runs `call` every `everyMs` until stopped (each call awaited, so the load stays bounded); counts successes and failures. */
export class SteadyLoad {
  ok = 0;
  readonly failures: LoadFailure[] = [];
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly what: string,
    private readonly everyMs: number,
    private readonly call: (i: number) => Promise<void>,
  ) {}

  start(): void {
    this.running = (async () => {
      for (let i = 0; !this.stopped; i++) {
        const started = Date.now();
        try {
          await this.call(i);
          this.ok++;
        } catch (err) {
          this.failures.push({
            what: this.what,
            at: Date.now(),
            error: err instanceof Error ? err.message : String(err),
          });
        }
        await new Promise((r) => setTimeout(r, Math.max(0, this.everyMs - (Date.now() - started))));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }
}

/** REST: a person's token for one of their authorizations, through the load balancer; anything but 201 and a token fails. */
export function restTokenCall(
  lb: LoadBalancer,
  people: { token: string; authorizationId: string }[],
): (i: number) => Promise<void> {
  return async (i) => {
    const who = people[i % people.length];
    const res = await fetch(
      `${lb.pick()}/api/v2/externalOAuth/authorizedProviders/${who.authorizationId}/token/`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${who.token}` },
        signal: AbortSignal.timeout(15_000),
      },
    );
    const body = (await res.json().catch(() => ({}))) as { accessToken?: string };
    if (res.status !== 201 || !body.accessToken)
      throw new Error(`REST token for ${who.authorizationId}: ${res.status} ${JSON.stringify(body)}`);
  };
}

/** Bus: `tokens.acquire` for one of the authorizations; anything but a token that is still valid fails. */
export function busAcquireCall(
  bus: BusClientProxy,
  auth: () => string,
  authorizationIds: string[],
): (i: number) => Promise<void> {
  return async (i) => {
    const authorizationId = authorizationIds[i % authorizationIds.length];
    const token = (await bus.request(
      'tokens.acquire',
      { authorizationId, minValiditySeconds: 1 },
      { auth: auth(), timeoutMs: 15_000 },
    )) as AcquiredToken;
    if (!token.accessToken) throw new Error(`bus acquire for ${authorizationId}: no token`);
  };
}
