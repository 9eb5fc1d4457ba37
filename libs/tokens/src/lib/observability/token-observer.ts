/**
 * What the token path tells observers (metrics), framework-free: a port the token path calls in
 * one line at each place an outcome is known. No-ops until `observeTokens` installs an observer;
 * one per process (the metrics registry is too).
 */
export type AcquireOutcome = 'memory' | 'database' | 'refresh' | 'waited';
/** A refresh's result class: ok, or the provider error's kind (transient, invalid_grant, invalid_client, rejected). */
export type RefreshResult = 'ok' | 'transient' | 'invalid_grant' | 'invalid_client' | 'rejected';

export interface TokenObserver {
  /** A token served: from this process's memory, read from the database, refreshed by this call, or refreshed by a sibling it waited on. */
  acquired(outcome: AcquireOutcome): void;
  /** A provider refresh call ended (provider type: github, google, oidc...). */
  refreshed(result: RefreshResult, providerType: string): void;
  /** A caller found the refresh lease held by another replica and waited a poll interval. */
  leaseWaited(): void;
}

const observers: TokenObserver[] = [];

/** The observer the token path calls (fans out to the installed ones). */
export const tokenObserver: TokenObserver = {
  acquired: (outcome) => observers.forEach((o) => o.acquired(outcome)),
  refreshed: (result, providerType) => observers.forEach((o) => o.refreshed(result, providerType)),
  leaseWaited: () => observers.forEach((o) => o.leaseWaited()),
};

/** Installs an observer once per process (a second install of the same one is ignored). */
export function observeTokens(observer: TokenObserver): void {
  if (!observers.includes(observer)) observers.push(observer);
}

/** The refresh result class of an error thrown by a provider refresh call. */
export function refreshResultOf(err: unknown): RefreshResult {
  const kind = (err as { kind?: unknown } | null)?.kind;
  return kind === 'invalid_grant' || kind === 'invalid_client' || kind === 'rejected' ? kind : 'transient';
}

/** Counts a served token's path when it came through the refresh path (refreshed here, or waited on another's refresh). */
export function afterRefreshPath<T extends { refreshed: boolean }>(served: T): T {
  tokenObserver.acquired(served.refreshed ? 'refresh' : 'waited');
  return served;
}
