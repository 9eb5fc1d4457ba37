import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { AccessTokenClaims } from '@broker/contracts';
import { SIGNING_ALG } from '@broker/auth-kit';
import { SigningKeysService } from './signing-keys.service';

export interface AccessTokenInput {
  sub: string;
  orgId: string;
  clientId: string;
  scope: string[];
  ttlSeconds: number;
  act?: AccessTokenClaims['act'];
  /** The principal's IANA time zone (seed 003 `tz`), as the `zoneinfo` claim. */
  zoneinfo?: string;
  /** The sign-in session (refresh-token family) the token comes from, as the `sid` claim. */
  sid?: string;
  /** RFC 8707: the resource the token is bound to (its `aud`); default: the broker's API. */
  audience?: string;
}

/** Signs the broker's access tokens (JWT, `typ: at+jwt`, RFC 9068 claims plus org and scope). */
export class AccessTokenIssuer {
  constructor(
    private readonly keys: SigningKeysService,
    private readonly issuer: string,
    private readonly audience: string,
  ) {}

  async issue(input: AccessTokenInput): Promise<{ token: string; expiresIn: number }> {
    const key = await this.keys.signingKey();
    const claims: Record<string, unknown> = {
      scope: input.scope.join(' '),
      org_id: input.orgId,
      client_id: input.clientId,
    };
    if (input.act) claims['act'] = input.act;
    if (input.zoneinfo) claims['zoneinfo'] = input.zoneinfo;
    if (input.sid) claims['sid'] = input.sid;
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, typ: 'at+jwt' })
      .setIssuer(this.issuer)
      .setAudience(input.audience ?? this.audience)
      .setSubject(input.sub)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(`${input.ttlSeconds}s`)
      .sign(key.privateKey);
    return { token, expiresIn: input.ttlSeconds };
  }
}

export interface IdTokenInput {
  sub: string;
  orgId: string;
  /** The client the ID token is for (its `aud`). */
  clientId: string;
  nonce?: string | null;
  ttlSeconds: number;
  /** Profile claims of the person (OIDC standard claim names). */
  profile?: Record<string, string | null | undefined>;
}

/** Signs OIDC ID tokens for first-party apps (`typ: JWT`, audience = the client). */
export class IdTokenIssuer {
  constructor(
    private readonly keys: SigningKeysService,
    private readonly issuer: string,
  ) {}

  async issue(input: IdTokenInput): Promise<string> {
    const key = await this.keys.signingKey();
    const claims: Record<string, unknown> = { org_id: input.orgId };
    for (const [name, value] of Object.entries(input.profile ?? {})) if (value) claims[name] = value;
    if (input.nonce) claims['nonce'] = input.nonce;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setAudience(input.clientId)
      .setSubject(input.sub)
      .setIssuedAt()
      .setExpirationTime(`${input.ttlSeconds}s`)
      .sign(key.privateKey);
  }
}
