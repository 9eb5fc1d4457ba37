import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { BrokerEventPublisher } from '@broker/bus';
import { SERVICE_CONFIG } from './config/config.tokens';
import type { ServiceConfig } from './config/service-config';

/** The service's broker-event publisher, on its Redis and bus prefix; closed on shutdown. */
@Injectable()
export class ServiceEventPublisher extends BrokerEventPublisher implements OnApplicationShutdown {
  constructor(@Inject(SERVICE_CONFIG) config: ServiceConfig) {
    super(config.redisUrl, config.bus.prefix, `${config.service}:events`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }
}
