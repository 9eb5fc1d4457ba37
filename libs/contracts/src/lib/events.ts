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

/**
 * What changed about a consumer, i.e. about whom a provider token may be served to:
 * - `policy`: a grant of the client's consumer policy was made or withdrawn (issue 19's policies);
 * - `client`: the client was disabled, enabled, deleted, or all its tokens revoked;
 * - `user`: a user of the org was disabled, enabled, deleted, or all their tokens revoked.
 */
export const CONSUMER_CHANGES = ['policy', 'client', 'user'] as const;
export type ConsumerChange = (typeof CONSUMER_CHANGES)[number];

/**
 * Published on `<BUS_PREFIX>:events` by the service that made the change, after it is durable, so
 * that whatever remembers a serve (a broker replica's copy of the grants, a gateway-side or client
 * cache of served tokens) drops what may now be refused. Ids only: never a token or a secret.
 */
export type ConsumerChangedEvent =
  | { type: 'consumer.changed'; change: 'policy' | 'client'; orgId: string; clientId: string; at: string }
  | { type: 'consumer.changed'; change: 'user'; orgId: string; userId: string; at: string };

const idSchema = z.string().min(1).max(256);

/** What a subscriber accepts as a consumer change notice (after checking its signature). */
export const consumerChangedEventSchema: z.ZodType<ConsumerChangedEvent> = z.union([
  z.strictObject({
    type: z.literal('consumer.changed'),
    change: z.enum(['policy', 'client']),
    orgId: z.string().min(1).max(64),
    clientId: idSchema,
    at: z.string().datetime(),
  }),
  z.strictObject({
    type: z.literal('consumer.changed'),
    change: z.literal('user'),
    orgId: z.string().min(1).max(64),
    userId: idSchema,
    at: z.string().datetime(),
  }),
]);

/** The notice for a change of a client (its policy or itself), stamped now. */
export function clientChanged(
  orgId: string,
  clientId: string,
  change: 'policy' | 'client',
): ConsumerChangedEvent {
  return { type: 'consumer.changed', change, orgId, clientId, at: new Date().toISOString() };
}

/** The notice for a change of a user of the org, stamped now. */
export function userChanged(orgId: string, userId: string): ConsumerChangedEvent {
  return { type: 'consumer.changed', change: 'user', orgId, userId, at: new Date().toISOString() };
}

/** Every event published on `<BUS_PREFIX>:events`: authorization events, provider and consumer change notices. */
export type BusEvent = BrokerEvent | ProviderChangedEvent | ConsumerChangedEvent;

/** The events channel's message schema, for subscribers (after checking the signature). */
export const busEventSchema: z.ZodType<BusEvent> = z.union([
  brokerEventSchema,
  providerChangedEventSchema,
  consumerChangedEventSchema,
]);

/** Whether an event is about one authorization (the authorization events), as opposed to a change notice. */
export function isAuthorizationEvent(event: BusEvent): event is BrokerEvent {
  return event.type !== 'provider.changed' && event.type !== 'consumer.changed';
}
