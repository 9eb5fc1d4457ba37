import { DataSource, EntityManager, IsNull } from 'typeorm';
import { OAuthClientEntity } from './entities/oauth-client.entity';
import { OrgEntity } from './entities/org.entity';
import { UserEntity } from './entities/user.entity';
import type { UserProfile } from './users.service';
import { DELEGATE_SCOPE, OPENID_SCOPE as OPENID } from '@broker/auth-kit';

/** Who may become a user of an org by signing in upstream (see OrgEntity). */
export interface SignInPolicySettings {
  mode: 'invited' | 'domains';
  allowedEmailDomains: string[];
  requireVerifiedEmail: boolean;
  defaultUserScopes: string[];
}

/** The outcome of a sign-in against the org's policy. */
export type Admission = { admitted: true; user: UserEntity } | { admitted: false; reason: string };

/**
 * Decides who a person signing in upstream is in an org, by the org's sign-in policy. A person is
 * the user already linked to their upstream subject; else an invited user (created beforehand)
 * whose subject is that upstream subject, or whose e-mail address matches a verified one; else,
 * only when the org allows e-mail domains, a new user with the org's default scopes. Anyone else is
 * refused and nothing is stored. A disabled user is refused.
 */
export class SignInPolicy {
  constructor(private readonly dataSource: DataSource) {}

  async admit(orgId: string, profile: UserProfile): Promise<Admission> {
    return this.dataSource.transaction(async (em) => {
      const org = await em.getRepository(OrgEntity).findOneBy({ id: orgId });
      if (!org) return { admitted: false, reason: 'unknown organisation' };
      const email = profile.email?.trim().toLowerCase() || null;
      const emailTrusted = !!email && (profile.emailVerified === true || !org.requireVerifiedEmail);
      const user = await this.findInvited(em, orgId, profile.sub, emailTrusted ? email : null);
      if (user === 'ambiguous')
        return {
          admitted: false,
          reason: 'several invitations match this e-mail address: ask the administrator',
        };
      if (user) {
        if (user.disabled) return { admitted: false, reason: 'this account is disabled' };
        await em.query(
          `UPDATE identity.users SET upstream_subject = $2,
             given_name = COALESCE($3, given_name), family_name = COALESCE($4, family_name), zoneinfo = COALESCE($5, zoneinfo),
             email = CASE WHEN $6::text IS NULL THEN email ELSE $6 END
           WHERE id = $1`,
          [
            user.id,
            profile.sub,
            profile.givenName ?? null,
            profile.familyName ?? null,
            profile.zoneinfo ?? null,
            emailTrusted ? email : null,
          ],
        );
        return { admitted: true, user: await em.getRepository(UserEntity).findOneByOrFail({ id: user.id }) };
      }
      if (org.signInMode !== 'domains')
        return { admitted: false, reason: 'you have not been invited to this organisation' };
      const domain = email?.slice(email.lastIndexOf('@') + 1);
      if (!emailTrusted || !domain || !org.allowedEmailDomains.map((d) => d.toLowerCase()).includes(domain)) {
        return { admitted: false, reason: 'your e-mail address is not one this organisation admits' };
      }
      const [inserted] = (await em.query(
        `INSERT INTO identity.users (org_id, sub, given_name, family_name, email, zoneinfo, scopes, upstream_subject)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $2) ON CONFLICT DO NOTHING RETURNING id`,
        [
          orgId,
          profile.sub,
          profile.givenName ?? null,
          profile.familyName ?? null,
          email,
          profile.zoneinfo ?? null,
          org.defaultUserScopes,
        ],
      )) as { id: string }[];
      // The subject is taken by someone who is not this upstream identity: refuse rather than merge.
      if (!inserted)
        return {
          admitted: false,
          reason: 'this identity conflicts with an existing user: ask the administrator',
        };
      return {
        admitted: true,
        user: await em.getRepository(UserEntity).findOneByOrFail({ id: inserted.id }),
      };
    });
  }

  /** Sets an org's sign-in policy (operators: the admin CLI). False when the org does not exist. */
  async setPolicy(orgId: string, settings: SignInPolicySettings): Promise<boolean> {
    const [, count] = (await this.dataSource.query(
      `UPDATE identity.orgs SET sign_in_mode = $2, allowed_email_domains = $3, require_verified_email = $4, default_user_scopes = $5 WHERE id = $1`,
      [
        orgId,
        settings.mode,
        settings.allowedEmailDomains.map((d) => d.trim().toLowerCase()).filter(Boolean),
        settings.requireVerifiedEmail,
        settings.defaultUserScopes,
      ],
    )) as [unknown, number];
    return count > 0;
  }

  private async findInvited(
    em: EntityManager,
    orgId: string,
    upstreamSubject: string,
    email: string | null,
  ): Promise<UserEntity | null | 'ambiguous'> {
    const users = em.getRepository(UserEntity);
    const linked = await users.findOneBy({ orgId, upstreamSubject });
    if (linked) return linked;
    const bySubject = await users.findOneBy({ orgId, sub: upstreamSubject, upstreamSubject: IsNull() });
    if (bySubject) return bySubject;
    if (!email) return null;
    const byEmail = (await em.query(
      `SELECT id FROM identity.users WHERE org_id = $1 AND lower(email) = $2 AND upstream_subject IS NULL LIMIT 2`,
      [orgId, email],
    )) as {
      id: string;
    }[];
    if (byEmail.length > 1) return 'ambiguous';
    return byEmail.length ? users.findOneByOrFail({ id: byEmail[0].id }) : null;
  }
}

/**
 * The scopes a person's token carries: what was asked for (already within the client's scopes),
 * narrowed to what the client may still give and what the person may do; `tokens:delegate` only
 * through a client with the explicit flag. `openid` stays when asked for.
 */
export function personScope(
  asked: string[],
  client: Pick<OAuthClientEntity, 'scopes' | 'allowUserDelegation'>,
  user: Pick<UserEntity, 'scopes'>,
): string[] {
  return asked.filter(
    (s) =>
      s === OPENID ||
      (client.scopes.includes(s) &&
        user.scopes.includes(s) &&
        (s !== DELEGATE_SCOPE || client.allowUserDelegation)),
  );
}
