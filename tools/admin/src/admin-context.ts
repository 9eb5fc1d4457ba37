import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { EnvelopeCipher, KeyedHasher, KeyringError, TokenFingerprinter, parseKeyring } from '@broker/crypto';
import {
  ClientsService,
  IDENTITY_SCHEMA,
  OrgsService,
  SignInPolicy,
  ClientMetadataSettings,
  SigningKeysService,
  TokenGrantsService,
  UsersService,
} from '@broker/identity';
import {
  JobsService,
  ProvidersService,
  REGISTRY_SCHEMA,
  SecureConfigsService,
  WebhooksService,
} from '@broker/registry';
import { DomainSchema, domainDataSourceOptions, migrateDomainSchema } from '@broker/service-runtime';
import { AuthorizationsService, TOKENS_SCHEMA, TokenLedger } from '@broker/tokens';
import { AdminFailure } from './command';

/** What the tool needs to reach the broker's data: the token-broker's own settings. */
export interface AdminSettings {
  databaseUrl: string;
  pepper: Buffer;
  encryptionKeys: string;
  activeKeyId?: string;
  /** The operator org (OPERATOR_ORG_ID, else BOOTSTRAP_ORG_ID, else `default`): the only org given operator scopes. */
  operatorOrgId: string;
  /** Where the settings came from, for error messages. */
  source: string;
}

const SETTINGS_HELP =
  "run it where `npm start` runs (it reads the data folder), or set DATABASE_URL, SECRET_PEPPER and ENCRYPTION_KEYS to the token-broker's values";

/**
 * The settings from the environment (DATABASE_URL, SECRET_PEPPER, ENCRYPTION_KEYS,
 * ENCRYPTION_ACTIVE_KEY_ID) or, for what is unset, from the local data folder of `npm start`
 * (BROKER_DATA_DIR, default ./.data): its PostgreSQL port and generated secrets.
 */
export function adminSettings(
  env: Record<string, string | undefined> = process.env,
  cwd = process.cwd(),
): AdminSettings {
  const dataDir = resolve(cwd, env['BROKER_DATA_DIR'] || '.data');
  const local = readLocal(dataDir);
  const databaseUrl = env['DATABASE_URL'] || local.databaseUrl;
  const pepper = env['SECRET_PEPPER'] || local.secrets['SECRET_PEPPER'];
  const encryptionKeys = env['ENCRYPTION_KEYS'] || local.secrets['ENCRYPTION_KEYS'];
  const missing = [
    !databaseUrl && 'DATABASE_URL',
    !pepper && 'SECRET_PEPPER',
    !encryptionKeys && 'ENCRYPTION_KEYS',
  ].filter(Boolean);
  if (missing.length)
    throw new AdminFailure(
      `${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not set and no local default was found in ${dataDir}: ${SETTINGS_HELP}`,
    );
  return {
    databaseUrl: databaseUrl as string,
    pepper: Buffer.from(pepper as string, 'base64'),
    encryptionKeys: encryptionKeys as string,
    activeKeyId: env['ENCRYPTION_ACTIVE_KEY_ID'] || undefined,
    operatorOrgId: env['OPERATOR_ORG_ID'] || env['BOOTSTRAP_ORG_ID'] || 'default',
    source: env['DATABASE_URL'] ? 'DATABASE_URL' : `the local default in ${dataDir}`,
  };
}

function readLocal(dataDir: string): { databaseUrl?: string; secrets: Record<string, string | undefined> } {
  const read = (file: string): Record<string, unknown> => {
    try {
      return JSON.parse(readFileSync(join(dataDir, file), 'utf8')) as Record<string, unknown>;
    } catch {
      return {};
    }
  };
  const port = read('state.json')['postgresPort'];
  return {
    databaseUrl: typeof port === 'number' ? `postgres://postgres@127.0.0.1:${port}/broker` : undefined,
    secrets: read('secrets.json') as Record<string, string | undefined>,
  };
}

/**
 * The domain services the commands work through, each domain's DataSource opened (and migrated,
 * like a service start would) on first use, all closed by close().
 */
export class AdminContext {
  private readonly sources = new Map<string, Promise<DataSource>>();
  private cipherValue?: EnvelopeCipher;
  private settingsValue?: AdminSettings;

  /** `load` runs on first use, so a command checks its flags before the settings are needed. */
  constructor(private readonly load: () => AdminSettings = () => adminSettings()) {}

  private get settings(): AdminSettings {
    return (this.settingsValue ??= this.load());
  }

  /** The org whose clients may be given operator scopes (the queue dashboard: docs/queue-dashboard.md). */
  get operatorOrgId(): string {
    return this.settings.operatorOrgId;
  }

  async orgs(): Promise<OrgsService> {
    return new OrgsService(await this.open(IDENTITY_SCHEMA));
  }

  async signInPolicy(): Promise<SignInPolicy> {
    return new SignInPolicy(await this.open(IDENTITY_SCHEMA));
  }

  async clientMetadataSettings(): Promise<ClientMetadataSettings> {
    return new ClientMetadataSettings(await this.open(IDENTITY_SCHEMA));
  }

  async clients(): Promise<ClientsService> {
    return new ClientsService(await this.open(IDENTITY_SCHEMA), new KeyedHasher(this.settings.pepper));
  }

  async users(): Promise<UsersService> {
    return new UsersService(await this.open(IDENTITY_SCHEMA));
  }

  async signingKeys(): Promise<SigningKeysService> {
    return new SigningKeysService(await this.open(IDENTITY_SCHEMA), this.cipher());
  }

  async providers(): Promise<ProvidersService> {
    const ds = await this.open(REGISTRY_SCHEMA);
    // The tool reads and counts providers; registering one (which resolves endpoints) is the API's job.
    const noResolver = () =>
      Promise.reject(new AdminFailure('providers are registered through the API, not the admin tool'));
    return new ProvidersService(
      ds,
      new SecureConfigsService(ds, this.cipher()),
      new JobsService(ds),
      noResolver,
    );
  }

  async secureConfigs(): Promise<SecureConfigsService> {
    return new SecureConfigsService(await this.open(REGISTRY_SCHEMA), this.cipher());
  }

  /**
   * Webhook endpoints, whose targets pass the worker's egress guard: EGRESS_ALLOW_LOOPBACK and
   * EGRESS_ALLOWED_PORTS as the worker has them; on npm start's local default, what it gives the
   * worker (loopback, and the demo provider's and the demo receiver's ports).
   */
  async webhooks(env: Record<string, string | undefined> = process.env): Promise<WebhooksService> {
    const ds = await this.open(REGISTRY_SCHEMA);
    const local = !env['DATABASE_URL'];
    const allowLoopback =
      (env['EGRESS_ALLOW_LOOPBACK'] ?? String(local)) === 'true' && env['NODE_ENV'] !== 'production';
    const allowedPorts = (env['EGRESS_ALLOWED_PORTS'] ?? (local ? '443,3104,8090' : '443'))
      .split(',')
      .map(Number);
    return new WebhooksService(ds, new SecureConfigsService(ds, this.cipher()), {
      allowLoopback,
      allowedPorts,
    });
  }

  async jobs(): Promise<JobsService> {
    return new JobsService(await this.open(REGISTRY_SCHEMA));
  }

  async authorizations(): Promise<AuthorizationsService> {
    return new AuthorizationsService(await this.open(TOKENS_SCHEMA), this.cipher());
  }

  /** Consumer policies (no cache: the tool reads what is stored). */
  async tokenGrants(): Promise<TokenGrantsService> {
    return new TokenGrantsService(await this.open(IDENTITY_SCHEMA), { cacheMs: 0 });
  }

  /** The provenance ledger, read only (the tool never records serves). */
  async ledger(): Promise<TokenLedger> {
    return new TokenLedger(await this.open(TOKENS_SCHEMA), new TokenFingerprinter(this.settings.pepper));
  }

  async close(): Promise<void> {
    const opened = await Promise.allSettled([...this.sources.values()]);
    await Promise.all(opened.map((o) => (o.status === 'fulfilled' ? o.value.destroy() : undefined)));
  }

  private cipher(): EnvelopeCipher {
    if (!this.cipherValue) {
      try {
        this.cipherValue = new EnvelopeCipher(
          parseKeyring(this.settings.encryptionKeys, this.settings.activeKeyId),
        );
      } catch (err) {
        if (err instanceof KeyringError) throw new AdminFailure(`ENCRYPTION_KEYS: ${err.message}`);
        throw err;
      }
    }
    return this.cipherValue;
  }

  private open(domain: DomainSchema): Promise<DataSource> {
    let source = this.sources.get(domain.schema);
    if (!source) {
      source = (async () => {
        const ds = new DataSource(domainDataSourceOptions(this.settings.databaseUrl, domain, 'admin-cli', 2));
        try {
          await ds.initialize();
        } catch (err) {
          throw new AdminFailure(
            `cannot reach PostgreSQL at ${redacted(this.settings.databaseUrl)} (${(err as Error).message}); from ${this.settings.source}: is it running (npm start)?`,
          );
        }
        await migrateDomainSchema(ds, domain.schema);
        return ds;
      })();
      this.sources.set(domain.schema, source);
    }
    return source;
  }
}

function redacted(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(an invalid URL)';
  }
}
