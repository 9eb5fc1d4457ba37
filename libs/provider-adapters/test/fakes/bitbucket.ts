import { json } from '../support/servers';
import { rfcError } from './generic';
import { OAuthFake } from './oauth-fake';

export const BITBUCKET_CLIENT = { id: 'bb-key', secret: 'bb-secret' };

/**
 * Bitbucket Cloud at the fake's origin (the cloud URLs rewritten): the token endpoint insists on
 * HTTP Basic client authentication, refresh tokens rotate, no revocation endpoint, `/2.0/user`
 * and `/2.0/user/emails`. Also Bitbucket Data Center's REST API under `/bbdc` (user slug in the
 * `X-AUSERNAME` header).
 */
export async function startBitbucketFake(): Promise<OAuthFake> {
  return OAuthFake.start({
    clientId: BITBUCKET_CLIENT.id,
    clientSecret: BITBUCKET_CLIENT.secret,
    clientAuth: 'client_secret_basic',
    paths: { token: '/site/oauth2/access_token' },
    refresh: 'rotate',
    expiresIn: 7200,
    error: (failure) =>
      failure === 'invalid_client'
        ? {
            status: 400,
            body: {
              error: 'invalid_client',
              error_description:
                'Client credentials missing; this request needs to be authenticated with OAuth consumer credentials',
            },
          }
        : rfcError(failure),
    api: {
      'GET /2.0/user': {
        handle: ({ res, token }) =>
          json(res, 200, {
            type: 'user',
            account_id: '557058:abc',
            uuid: '{d301aafa-d676-4ee0-88be-962be7417567}',
            display_name: 'Ada Lovelace',
            nickname: token?.user,
            links: { avatar: { href: 'https://avatar.bitbucket.example/ada.png' } },
          }),
      },
      'GET /2.0/user/emails': {
        handle: ({ res }) =>
          json(res, 200, {
            values: [
              { email: 'old@example.test', is_primary: false, is_confirmed: true },
              { email: 'ada@example.test', is_primary: true, is_confirmed: true },
            ],
          }),
      },
      'GET /bbdc/rest/api/latest/application-properties': {
        handle: ({ res, token }) =>
          json(
            res,
            200,
            { version: '9.4.0', displayName: 'Bitbucket' },
            { 'x-ausername': String(token?.user) },
          ),
      },
      'GET /bbdc/rest/api/latest/users/ada': {
        handle: ({ res }) =>
          json(res, 200, {
            name: 'ada',
            emailAddress: 'ada@dc.example',
            id: 101,
            displayName: 'Ada Lovelace',
            active: true,
            slug: 'ada',
            type: 'NORMAL',
          }),
      },
    },
  });
}
