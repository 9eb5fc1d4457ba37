/** Counters of one client (for metrics, debugging and tests); never a token. */
export interface BrokerClientStats {
  /** Acquires that passed validation. */
  acquires: number;
  /** Acquires served from the local cache. */
  cacheHits: number;
  /** Acquires that waited on a bus request another acquire had started. */
  sharedRequests: number;
  /** `tokens.acquire` requests sent on the bus (retries included). */
  busRequests: number;
  /** Own access tokens fetched (or asked of `getAccessToken`). */
  ownTokenFetches: number;
  /** Genuine (signed) events received on the events channel. */
  eventsReceived: number;
  /** Messages on the events channel that were not genuine events (forged, altered, stale): ignored. */
  eventsRejected: number;
  /** Bus replies that did not open with their request's key (forged): ignored. */
  forgedReplies: number;
  /** Times the whole cache was dropped because events may have been missed. */
  cacheClears: number;
  /** Authorizations in the local cache now. */
  cachedTokens: number;
  /** Whether the events subscription is up (while down, nothing is cached). */
  subscribed: boolean;
}
