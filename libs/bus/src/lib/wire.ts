import type { BusErrorPayload } from '@broker/contracts';

/**
 * What a bus request looks like in Redis (an entry of the target service's request list).
 * Only routing facts are in clear; the payload and the caller's credentials are sealed.
 */
export interface RequestEnvelope {
  v: 1;
  /** Request id: `<client id>.<sequence>`, unique per call. */
  i: string;
  /** Message pattern. */
  p: string;
  /** Deadline (epoch ms): past it the caller has given up and the request is dropped unhandled. */
  d: number;
  /** Reply channel of the calling instance; absent for events (no reply). */
  r?: string;
  /** The caller's X25519 public key, to seal the reply; absent for events. */
  k?: string;
  /** Sealed RequestBody. */
  s: string;
}

/** The sealed part of a request. */
export interface RequestBody {
  data: unknown;
  /** The caller's bearer token, verified by the receiving service. */
  auth?: string;
}

/** What is published on the caller's reply channel. */
export interface ReplyMessage {
  /** Request id. */
  i: string;
  /** The answering replica's X25519 public key. */
  k: string;
  /** Sealed ReplyBody. */
  s: string;
}

export type ReplyBody = { ok: true; data: unknown } | { ok: false; error: BusErrorPayload };

/** Associated data binding a sealed request to its queue, id, pattern and deadline. */
export function requestAad(queue: string, id: string, envelope: Pick<RequestEnvelope, 'p' | 'd'>): string {
  return `req|${queue}|${id}|${envelope.p}|${envelope.d}`;
}

/** Associated data binding a sealed reply to its request. */
export function replyAad(id: string): string {
  return `rep|${id}`;
}

/** Name of a service's request queue (bound into each sealed request's associated data). */
export function busQueueName(service: string): string {
  return `bus.${service}`;
}

/** Redis list from which a service's replicas pop their bus requests. */
export function requestListKey(prefix: string, service: string): string {
  return `${prefix}:bus:req:${service}`;
}

/** Redis pub/sub channel on which one client instance receives its replies. */
export function replyChannel(prefix: string, clientId: string): string {
  return `${prefix}:bus:reply:${clientId}`;
}
