import { Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BrokerClient, BrokerClientError, BrokerClientOptions } from '../src';
import { BrokerClientModule } from '../src/nest';
import { FakeBroker, startFakeBroker } from './support/fake-broker';

const SETTINGS = 'SETTINGS';

interface Settings {
  broker: FakeBroker;
}

@Injectable()
class RepoService {
  constructor(readonly tokens: BrokerClient) {}
}

describe('BrokerClientModule', () => {
  let broker: FakeBroker;

  beforeAll(async () => {
    broker = await startFakeBroker('bclient-nest');
  });

  afterAll(async () => {
    await broker.close();
  });

  beforeEach(() => {
    broker.state.reset();
    broker.state.authorizations.set('auth-1', {
      userId: 'user-1',
      providerId: 'github',
      lifetimeSeconds: 3600,
    });
  });

  function options(): BrokerClientOptions {
    return {
      redisUrl: broker.redisUrl,
      brokerPublicKey: broker.brokerPublicKey,
      eventsPublicKeys: broker.eventsPublicKeys,
      prefix: broker.prefix,
      credentials: {
        tokenUrl: broker.tokenUrl,
        clientId: broker.clientId,
        clientSecret: broker.clientSecret,
      },
      name: 'nest-broker-client',
    };
  }

  it('forRootAsync builds the client from injected settings and closes it on shutdown', async () => {
    @Module({
      providers: [{ provide: SETTINGS, useValue: { broker } satisfies Settings }],
      exports: [SETTINGS],
    })
    class SettingsModule {}

    @Module({
      imports: [
        BrokerClientModule.forRootAsync({
          imports: [SettingsModule],
          inject: [SETTINGS],
          useFactory: (settings: Settings) => ({
            redisUrl: settings.broker.redisUrl,
            brokerPublicKey: settings.broker.brokerPublicKey,
            eventsPublicKeys: settings.broker.eventsPublicKeys,
            prefix: settings.broker.prefix,
            credentials: {
              tokenUrl: settings.broker.tokenUrl,
              clientId: settings.broker.clientId,
              clientSecret: settings.broker.clientSecret,
            },
            defaultTimeoutMs: 3_000,
          }),
        }),
      ],
      providers: [RepoService],
    })
    class AppModule {}

    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    await app.init();
    const client = app.get(RepoService).tokens;
    expect(client).toBeInstanceOf(BrokerClient);
    expect(client.stats().subscribed).toBe(true);
    await expect(client.acquire({ authorizationId: 'auth-1' })).resolves.toMatchObject({
      authorizationId: 'auth-1',
    });
    expect(broker.state.busCalls).toHaveLength(1);

    await app.close();
    expect(client.stats().subscribed).toBe(false);
    const err = await client.acquire({ authorizationId: 'auth-1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerClientError);
    expect((err as BrokerClientError).code).toBe('CLOSED');
  });

  it('forRoot with global: true serves modules that do not import it', async () => {
    @Injectable()
    class Elsewhere {
      constructor(@Inject(BrokerClient) readonly tokens: BrokerClient) {}
    }
    @Module({ providers: [Elsewhere], exports: [Elsewhere] })
    class FeatureModule {}
    @Module({ imports: [BrokerClientModule.forRoot(options(), { global: true }), FeatureModule] })
    class AppModule {}

    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    try {
      const token = await app.get(Elsewhere).tokens.acquire({ userId: 'user-1', providerId: 'github' });
      expect(token.authorizationId).toBe('auth-1');
    } finally {
      await app.close();
    }
  });

  it('fails the application start when the options are wrong, without leaking the secret', async () => {
    @Module({ imports: [BrokerClientModule.forRoot({ ...options(), brokerPublicKey: 'k1:AAAA' })] })
    class AppModule {}
    const err = await NestFactory.createApplicationContext(AppModule, {
      logger: false,
      abortOnError: false,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerClientError);
    expect((err as BrokerClientError).code).toBe('INVALID_REQUEST');
    expect((err as Error).message).not.toContain(broker.clientSecret);
  });
});
