import {
  DynamicModule,
  InjectionToken,
  Module,
  ModuleMetadata,
  OptionalFactoryDependency,
  Provider,
} from '@nestjs/common';
import { BrokerClient } from './broker-client';
import type { BrokerClientOptions } from './options';

/** Injection token of the options given to `BrokerClientModule`. */
export const BROKER_CLIENT_OPTIONS = Symbol('BROKER_CLIENT_OPTIONS');

export interface BrokerClientModuleAsyncOptions {
  imports?: ModuleMetadata['imports'];
  useFactory: (...args: never[]) => BrokerClientOptions | Promise<BrokerClientOptions>;
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  /** Registers the module globally (default false). */
  global?: boolean;
}

const clientProvider: Provider = {
  provide: BrokerClient,
  inject: [BROKER_CLIENT_OPTIONS],
  // Connected before the app starts; Nest calls its onApplicationShutdown on app.close().
  useFactory: (options: BrokerClientOptions) => BrokerClient.connect(options),
};

/** Provides a connected `BrokerClient`, closed when the application shuts down. */
@Module({})
export class BrokerClientModule {
  static forRoot(options: BrokerClientOptions, extras: { global?: boolean } = {}): DynamicModule {
    return {
      module: BrokerClientModule,
      global: extras.global ?? false,
      providers: [{ provide: BROKER_CLIENT_OPTIONS, useValue: options }, clientProvider],
      exports: [BrokerClient],
    };
  }

  static forRootAsync(options: BrokerClientModuleAsyncOptions): DynamicModule {
    return {
      module: BrokerClientModule,
      global: options.global ?? false,
      imports: options.imports ?? [],
      providers: [
        { provide: BROKER_CLIENT_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] },
        clientProvider,
      ],
      exports: [BrokerClient],
    };
  }
}
