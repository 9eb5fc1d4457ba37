// What the tokens and scale benchmarks get from startTokenSystem, and what they ask of it.
import type { Proc } from './procs';

export interface Authorization {
  user: string;
  email: string;
  userToken: string;
  authorizationId: string;
  /** When the consent callback returned (the token was stored then). */
  connectedAt: number;
}

export interface TokenSystem {
  databaseUrl: string;
  redisUrl: string;
  pgDataDir: string;
  redisDir: string;
  /** The services' environment (bus keys, BUS_PREFIX, ENCRYPTION_KEYS, ...; NAME__app entries are one app's own). */
  env: Record<string, string>;
  gatewayUrl: string;
  idpIssuer: string;
  gateway: Proc;
  brokers: Proc[];
  others: Proc[];
  idp: Proc;
  adminToken: string;
  providerId: string;
  authorizations: Authorization[];
  /** The IdP's `refresh_token.consumed` counter. */
  consumed(): Promise<number>;
  /** The inspector port of a service started with `inspect` (profiling runs only). */
  inspectPort(proc: Proc): number | undefined;
  /** Creates a user and connects them through the consent flow (another authorization). */
  connectUser(user: string): Promise<Authorization>;
  /** Starts one more process of a service (e.g. a restart with other settings), resolved once ready. */
  startService(
    app: 'token-broker' | 'provider-registry' | 'worker',
    env?: Record<string, string>,
    name?: string,
  ): Promise<Proc>;
}

export interface SystemOptions {
  dir: string;
  databaseUrl: string;
  redisUrl: string;
  pgDataDir: string;
  redisDir: string;
  brokerReplicas: number;
  accessTokenTtlSeconds: number;
  logLevel: string;
  /** Start the token-brokers and the gateway with --inspect on loopback (for CPU profiles). */
  inspect: boolean;
  step: (msg: string) => void;
  /** More loopback ports the services may call (a benchmark's own fake provider). */
  egressPorts?: number[];
  /** More settings for every service (bench:scale's batch sizes and paces). */
  extraEnv?: Record<string, string>;
}
