import { z } from 'zod';
import { BrokerEvent, brokerEventSchema } from './tokens';
import type { ProviderChangedEvent } from './providers';

/** What a subscriber accepts as a provider change notice (after checking its signature). */
export const providerChangedEventSchema: z.ZodType<ProviderChangedEvent> = z.strictObject({
  type: z.literal('provider.changed'),
  orgId: z.string().min(1).max(64),
  providerId: z.string().min(1).max(256),
  at: z.string().datetime(),
});

/** Every event published on `<BUS_PREFIX>:events`: authorization events and provider change notices. */
export type BusEvent = BrokerEvent | ProviderChangedEvent;

/** The events channel's message schema, for subscribers (after checking the signature). */
export const busEventSchema: z.ZodType<BusEvent> = z.union([brokerEventSchema, providerChangedEventSchema]);
