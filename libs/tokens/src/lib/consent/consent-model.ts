import type { AuthorizedProvider, OAuthProvider, OAuthUserResponse } from '@broker/contracts';
import { TokensError } from '../tokens-error';

export interface ConsentOptions {
  /** Where providers send the browser back by default (the gateway's browser callback). */
  defaultRedirectUri: string;
  /**
   * The broker's start page (`/connect/start`): a consent that returns to the browser callback
   * starts there, where the browser confirms it and is bound to it by a cookie.
   */
  startPageUrl: string;
  /** Other redirect URIs a caller may ask for (exact match), e.g. a front end's own callback page. */
  allowedRedirectUris: string[];
  stateTtlMs: number;
  providerTimeoutMs: number;
}

/** What a completed callback produced. */
export interface CompletedConsent {
  authorizedProvider: AuthorizedProvider;
  userInfo: OAuthUserResponse;
  /** The client's own state from the authorize call, echoed back. */
  clientState: string | null;
  /** The hosted OAuth setup this consent came from, if any. */
  setupId: string | null;
}

/** A consent started by a hosted OAuth setup: which one, and the scopes it asks for. */
export interface SetupConsent {
  setupId: string;
  scopes: string[];
}

/** The browser callback came back without the cookie of the browser that started the consent (or with another one). */
export class ConsentBrowserMismatchError extends TokensError {
  constructor() {
    super(
      'BAD_REQUEST',
      'This connection was not started in this browser: nothing was linked. Start again from the application.',
    );
  }
}

/** A pending consent as its start page shows it. */
export interface PendingConsent {
  orgId: string;
  userId: string;
  provider: OAuthProvider;
  expiresAt: Date;
  /** Origin of the provider's authorization endpoint. */
  authorizationOrigin: string;
}
