/** Injection tokens the app provides: how to reach providers, where events go. */
export const PROVIDER_ACCESS = Symbol('PROVIDER_ACCESS');
export const EVENT_SINK = Symbol('EVENT_SINK');
/** Optional: where device pollers are started (the worker's `device-poll` queue); starting a device flow fails without it. */
export const DEVICE_POLL_SCHEDULER = Symbol('DEVICE_POLL_SCHEDULER');
/** Optional: the ids of an org's providers (the external-auth list offers them); none listed without it. */
export const PROVIDER_DIRECTORY = Symbol('PROVIDER_DIRECTORY');
/** Optional: the secret-free provider summary for display (none: the display reads PROVIDER_ACCESS). */
export const PROVIDER_SUMMARY = Symbol('PROVIDER_SUMMARY');
/** Optional: per-provider limits of the worker's scheduled refreshes (none: unlimited). */
export const PROVIDER_GATE = Symbol('PROVIDER_GATE');
/**
 * Optional: the consumer policy (the identity domain's grants, wired by the token-broker). Without
 * it every consumer is refused: provider tokens never leave without a policy decision.
 */
export const CONSUMER_POLICY = Symbol('CONSUMER_POLICY');
/** Optional: mints narrower tokens (downscoping); default: the provider adapters' own (Box, GitHub), cached per restriction. */
export const TOKEN_NARROWER = Symbol('TOKEN_NARROWER');
/** The guarded fetch every provider call of this domain goes through. */
export const PROVIDER_FETCH = Symbol('PROVIDER_FETCH');
