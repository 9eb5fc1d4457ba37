import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { BrokerEventPublisher } from '@broker/bus';
import { SERVICE_CONFIG } from './config/config.tokens';
import type { ServiceConfig } from './config/service-config';

/** The service's broker-event publisher, on its Redis and bus prefix; closed on shutdown. */
@Injectable()
export class ServiceEventPublisher extends BrokerEventPublisher implements OnApplicationShutdown {
  constructor(@Inject(SERVICE_CONFIG) config: ServiceConfig) {
    if (!config.bus.eventsSigningKey)
      throw new Error(`${config.service} publishes broker events but has no EVENTS_SIGNING_KEY`);
    super(config.redisUrl, config.bus.prefix, config.bus.eventsSigningKey, `${config.service}:events`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }
}
