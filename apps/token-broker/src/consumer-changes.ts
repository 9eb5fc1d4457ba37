import { Inject, Injectable } from '@nestjs/common';
import { type BusEvent, clientChanged, userChanged } from '@broker/contracts';
import { EVENT_SINK } from '@broker/tokens';

/**
 * Tells every subscriber, with a signed `consumer.changed` event, that whom a token may be served
 * to has changed: a client's consumer policy, the client itself, or a user of the org. Broker
 * replicas drop their copy of the client's grants, and whatever keeps served tokens (the gateway's
 * cache, a BrokerClient) drops them. Sent after the change is durable, and awaited (the publish
 * never fails) so the admin's answer comes after the notice left.
 */
@Injectable()
export class ConsumerChangeNotices {
  // The tokens domain types its sink for the authorization events it sends; the token-broker wires
  // it to its ServiceEventPublisher's `publish`, which signs and sends any event of the channel.
  constructor(@Inject(EVENT_SINK) private readonly sink: (event: BusEvent) => void | Promise<void>) {}

  async client(orgId: string, clientId: string, change: 'policy' | 'client'): Promise<void> {
    await this.sink(clientChanged(orgId, clientId, change));
  }

  async user(orgId: string, userId: string): Promise<void> {
    await this.sink(userChanged(orgId, userId));
  }
}
