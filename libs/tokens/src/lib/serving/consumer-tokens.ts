import type {
  LedgerActor,
  LedgerPath,
  PolicyAnswer,
  PolicyQuestion,
  PolicyRule,
  RestrictionPart,
  TokenRestriction,
} from '@broker/contracts';
import { AuthorizedProvidersService } from '../authorized-providers.service';
import { TokenLedger } from '../ledger/token-ledger';
import { ProviderAccess } from '../ports';
import { TokensError } from '../tokens-error';
import { ServedToken, TokenPath } from '../token-path';

/** Asks a consumer's policy (the identity domain answers; the token-broker wires it). */
export type ConsumerPolicy = (q: PolicyQuestion) => Promise<PolicyAnswer>;

/** A narrower token minted by the provider from the authorization's own, and which parts it enforces. */
export interface NarrowedToken {
  accessToken: string;
  tokenType: string;
  expiresAt: Date | null;
  scopes: string[];
  enforced: RestrictionPart[];
}

/**
 * Mints a token narrower than `served` where the provider can (null: it cannot narrow any of
 * `want`). Implemented over the provider adapters, with derived tokens cached per restriction.
 */
export type TokenNarrower = (
  orgId: string,
  served: ServedToken,
  want: TokenRestriction,
) => Promise<NarrowedToken | null>;

/** Who is being served, as the caller's verified token says. */
export interface Consumer {
  orgId: string;
  /** The client the caller's token was issued to: whose policy applies. */
  clientId: string;
  /** The user the caller acts for (a person's token, or an exchange's subject); absent for a service account. */
  actingFor?: string;
  /** Who acted for the consumer (a delegating client, the client that exchanged), for the ledger. */
  actor?: LedgerActor;
  path: LedgerPath;
}

/** Which authorization: by id, or by user + provider (+ account when the user linked several). */
export interface TokenTarget {
  authorizationId?: string;
  userId?: string;
  providerId?: string;
  account?: string;
}

export interface ServeOptions {
  minValiditySeconds?: number;
  deadline?: number;
  restriction?: TokenRestriction;
  /** Only an authorization of this user (a person's own token; the subject of an exchange): others are NOT_FOUND. */
  ownedBy?: string;
}

/** A token as served to a consumer. */
export interface ConsumerToken extends ServedToken {
  attenuated: boolean;
  unmet: RestrictionPart[];
  /** The serve's ledger ticket: REST serves without a restriction only (see TokenLedger.record). */
  ledgerTicket?: string;
}

type Bounds = Extract<PolicyAnswer, { allowed: true }>;

/**
 * Every provider token that leaves the broker (REST, bus, token exchange) goes through here: the
 * consumer's policy is asked before anything is served or refreshed, the token is held to the
 * policy's bounds (narrowed by the provider where it can, refused where it cannot), the caller's own
 * restriction is applied where the provider can narrow (and reported as unmet where not), and the
 * serve is recorded in the provenance ledger (batched, off the caller's path).
 */
export class ConsumerTokens {
  constructor(
    private readonly tokens: TokenPath,
    private readonly authorized: AuthorizedProvidersService,
    private readonly providers: ProviderAccess,
    private readonly policy: ConsumerPolicy,
    private readonly ledger: TokenLedger,
    private readonly narrower?: TokenNarrower,
  ) {}

  async serve(consumer: Consumer, target: TokenTarget, options: ServeOptions = {}): Promise<ConsumerToken> {
    let authorizationId = target.authorizationId;
    if (!authorizationId) {
      if (!target.userId || !target.providerId)
        throw new TokensError('UNPROCESSABLE', 'give authorizationId, or userId and providerId');
      if (options.ownedBy !== undefined && target.userId !== options.ownedBy)
        throw new TokensError('NOT_FOUND', 'authorization not found');
      // Asked before looking the authorization up: a consumer outside its policy does not learn whether one exists.
      await this.admit(consumer, { userId: target.userId, providerId: target.providerId });
      authorizationId = await this.authorized.findId(
        consumer.orgId,
        target.userId,
        target.providerId,
        target.account,
      );
    }
    let bounds: Bounds | undefined;
    const served = await this.tokens.acquire(
      consumer.orgId,
      authorizationId,
      options.minValiditySeconds,
      options.deadline,
      options.ownedBy,
      async (facts) => {
        bounds = await this.admit(consumer, facts);
      },
    );
    if (!bounds)
      throw new TokensError('FORBIDDEN', 'the consumer policy was not consulted', [
        { name: 'policy.grant', message: 'no policy decision' },
      ]);
    const shaped = await this.shape(consumer, served, bounds, options.restriction ?? {});
    // A REST serve without a restriction is what the gateway may cache: its ticket lets the
    // gateway report the hits it answers (ledger-ticket.ts). Other serves are never repeated.
    const restricted = options.restriction !== undefined && Object.keys(options.restriction).length > 0;
    const ledgerTicket = this.ledger.record(
      {
        orgId: consumer.orgId,
        consumer: consumer.clientId,
        actor: consumer.actor,
        subject: shaped.userId,
        authorizationId: shaped.authorizationId,
        providerId: shaped.providerId,
        path: consumer.path,
        restriction: options.restriction,
        attenuated: shaped.attenuated,
        expiresAt: shaped.expiresAt,
        token: shaped.accessToken,
      },
      { ticket: consumer.path === 'rest' && !restricted },
    );
    return ledgerTicket === undefined ? shaped : { ...shaped, ledgerTicket };
  }

  private async admit(consumer: Consumer, facts: { userId: string; providerId: string }): Promise<Bounds> {
    const credentials = await this.providers(consumer.orgId, facts.providerId);
    if (!credentials) throw new TokensError('NOT_FOUND', 'authorization not found');
    const answer = await this.policy({
      orgId: consumer.orgId,
      clientId: consumer.clientId,
      actingFor: consumer.actingFor,
      subject: facts.userId,
      providerId: facts.providerId,
      providerType: credentials.provider.type,
    });
    if (!answer.allowed) throw refused(answer.rule, answer.message);
    return answer;
  }

  /** Holds the token to the policy's bounds and the caller's restriction (see the class comment). */
  private async shape(
    consumer: Consumer,
    served: ServedToken,
    bounds: Bounds,
    restriction: TokenRestriction,
  ): Promise<ConsumerToken> {
    const want: TokenRestriction = {};
    const required = new Set<'scopes' | 'lifetime'>();
    if (restriction.scopes) {
      const beyond = bounds.maxScopes ? restriction.scopes.filter((s) => !bounds.maxScopes?.includes(s)) : [];
      if (beyond.length)
        throw refused(
          'scopes',
          `client '${consumer.clientId}' may not be served the scope(s) ${beyond.join(' ')}`,
        );
      if (!sameSet(restriction.scopes, served.scopes)) want.scopes = restriction.scopes;
    }
    if (bounds.maxScopes && !served.scopes.every((s) => bounds.maxScopes?.includes(s))) {
      want.scopes ??= bounds.maxScopes;
      required.add('scopes');
    }
    if (restriction.repositories) want.repositories = restriction.repositories;
    if (restriction.permissions) want.permissions = restriction.permissions;
    const remaining = served.expiresAt
      ? (served.expiresAt.getTime() - Date.now()) / 1000
      : Number.POSITIVE_INFINITY;
    if (restriction.maxLifetimeSeconds !== undefined && remaining > restriction.maxLifetimeSeconds)
      want.maxLifetimeSeconds = restriction.maxLifetimeSeconds;
    if (bounds.maxLifetimeSeconds !== null && remaining > bounds.maxLifetimeSeconds) {
      want.maxLifetimeSeconds = Math.min(
        want.maxLifetimeSeconds ?? Number.POSITIVE_INFINITY,
        bounds.maxLifetimeSeconds,
      );
      required.add('lifetime');
    }
    const asked = Object.keys(want) as RestrictionPart[];
    if (!asked.length) return { ...served, attenuated: false, unmet: [] };

    const narrowed = this.narrower ? await this.narrower(consumer.orgId, served, want) : null;
    const enforced = new Set<RestrictionPart>(narrowed?.enforced ?? []);
    if (required.has('scopes') && !enforced.has('scopes')) {
      const extra = served.scopes.filter((s) => !bounds.maxScopes?.includes(s));
      throw refused(
        'scopes',
        `the token carries scope(s) ${extra.join(' ')} beyond what client '${consumer.clientId}' may be served, and this provider cannot narrow it`,
      );
    }
    // Whatever is served, its remaining life decides the lifetime rule (a narrowed token may live less by itself).
    const finalLife = narrowed
      ? narrowed.expiresAt
        ? (narrowed.expiresAt.getTime() - Date.now()) / 1000
        : Number.POSITIVE_INFINITY
      : remaining;
    if (required.has('lifetime') && finalLife > (bounds.maxLifetimeSeconds ?? Number.POSITIVE_INFINITY)) {
      const left = Number.isFinite(finalLife) ? `${Math.round(finalLife)} s` : 'no known expiry';
      throw refused(
        'lifetime',
        `the token has ${left} left; client '${consumer.clientId}' may be served tokens living at most ${bounds.maxLifetimeSeconds} s, and this provider cannot mint shorter-lived ones`,
      );
    }
    const unmet = asked.filter((part) =>
      part === 'maxLifetimeSeconds'
        ? finalLife > (want.maxLifetimeSeconds ?? Number.POSITIVE_INFINITY)
        : !enforced.has(part),
    );
    if (!narrowed) return { ...served, attenuated: false, unmet };
    return {
      ...served,
      accessToken: narrowed.accessToken,
      tokenType: narrowed.tokenType,
      expiresAt: narrowed.expiresAt,
      scopes: narrowed.scopes,
      refreshed: false,
      attenuated: true,
      unmet,
    };
  }
}

/** A refusal by the consumer's policy: FORBIDDEN naming the rule (403 on REST, `policy.<rule>` in the fields). */
export function refused(rule: PolicyRule, message: string): TokensError {
  return new TokensError('FORBIDDEN', `Refused by the consumer policy (${rule}): ${message}.`, [
    { name: `policy.${rule}`, message },
  ]);
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
