import type { OAuthUser, OAuthUserResponse } from '@broker/contracts';

/** Seed 000 `oauth.User` with every field present (null where the provider told nothing). */
export function toUserResponse(user: OAuthUser): OAuthUserResponse {
  return {
    sub: user.sub ?? null,
    name: user.name ?? null,
    givenName: user.givenName ?? null,
    familyName: user.familyName ?? null,
    nickName: user.nickName ?? null,
    email: user.email ?? null,
    picture: user.picture ?? null,
    locale: user.locale ?? null,
    description: user.description ?? null,
    raw: user.raw ?? {},
  };
}
