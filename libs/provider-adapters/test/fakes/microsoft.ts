import { json } from '../support/servers';
import { OAuthFake, type FakeFailure } from './oauth-fake';

export const MS_TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const MS_CLIENT = { id: '00001111-aaaa-2222-bbbb-3333cccc4444', secret: 'ms~secret' };

/** An Entra error answer (`error`, `error_description` starting `AADSTSnnnn:`, `error_codes`, trace ids). */
export function aadsts(
  error: string,
  code: number,
  text: string,
  status = 400,
): { status: number; body: Record<string, unknown> } {
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${text} Trace ID: 0000aaaa-11bb-cccc-dd22-eeeeee333333 Correlation ID: aaaa0000-bb11-2222-33cc-444444dddddd Timestamp: 2026-11-23 10:00:00Z`,
      error_codes: [code],
      timestamp: '2026-11-23 10:00:00Z',
      trace_id: '0000aaaa-11bb-cccc-dd22-eeeeee333333',
      correlation_id: 'aaaa0000-bb11-2222-33cc-444444dddddd',
    },
  };
}

function entraError(failure: FakeFailure): { status: number; body: Record<string, unknown> } {
  switch (failure) {
    case 'invalid_client':
      return aadsts('invalid_client', 7000215, 'Invalid client secret provided.', 401);
    case 'bad_refresh_token':
    case 'bad_code':
      return aadsts(
        'invalid_grant',
        70008,
        'The provided authorization code or refresh token has expired due to inactivity.',
      );
    case 'bad_verifier':
      return aadsts(
        'invalid_grant',
        501481,
        'The Code_Verifier does not match the code_challenge supplied in the authorization request.',
      );
    case 'access_denied':
      return aadsts('authorization_declined', 70000, 'The user declined the authorization.');
    case 'bad_device_code':
      return aadsts('bad_verification_code', 70019, 'Verification code expired.');
    case 'wrong_tenant':
      return aadsts(
        'invalid_request',
        90002,
        'Tenant not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.',
      );
    default:
      return aadsts(failure, 70016, 'OAuth 2.0 device flow error.');
  }
}

/**
 * Microsoft Entra for one tenant at the fake's origin (login.microsoftonline.com and
 * graph.microsoft.com rewritten): `/{tenant}/oauth2/v2.0/token` and `/devicecode` answer only for
 * that tenant (any other tenant path: AADSTS90002), client_secret_post, rotating refresh tokens,
 * AADSTS error answers, `authorization_declined` for a denied device code, Graph `/v1.0/me`, and
 * SharePoint's `/_api/web/currentuser`.
 */
export async function startMicrosoftFake(): Promise<OAuthFake> {
  return OAuthFake.start({
    clientId: MS_CLIENT.id,
    clientSecret: MS_CLIENT.secret,
    clientAuth: 'client_secret_post',
    deviceClientAuth: 'same',
    paths: { token: `/${MS_TENANT}/oauth2/v2.0/token`, device: `/${MS_TENANT}/oauth2/v2.0/devicecode` },
    refresh: 'rotate',
    expiresIn: 4299,
    error: entraError,
    deviceAnswer: (body) => ({
      ...body,
      message: `To sign in, use a web browser to open the page ${String(body['verification_uri'])} and enter the code WDJB-MJHT to authenticate.`,
    }),
    unknownPath: (req, res) => {
      if (!/^\/[^/]+\/oauth2\/v2\.0\/(token|devicecode|authorize)$/.test(req.url.split('?')[0])) return false;
      const { status, body } = entraError('wrong_tenant');
      json(res, status, body);
      return true;
    },
    api: {
      'GET /v1.0/me': {
        handle: ({ res }) =>
          json(res, 200, {
            '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#users/$entity',
            id: '87d349ed-44d7-43e1-9a83-5f2406dee5bd',
            displayName: 'Adele Vance',
            givenName: 'Adele',
            surname: 'Vance',
            mail: 'AdeleV@contoso.example',
            userPrincipalName: 'AdeleV@contoso.example',
            preferredLanguage: 'en-US',
          }),
      },
      'GET /_api/web/currentuser': {
        handle: ({ res }) =>
          json(
            res,
            200,
            {
              Id: 11,
              IsHiddenInUI: false,
              LoginName: 'i:0#.f|membership|adelev@contoso.example',
              Title: 'Adele Vance',
              PrincipalType: 1,
              Email: 'AdeleV@contoso.example',
              IsSiteAdmin: false,
              UserId: { NameId: '100320009d80e5c3', NameIdIssuer: 'urn:federation:microsoftonline' },
              UserPrincipalName: 'adelev@contoso.example',
            },
            { 'content-type': 'application/json;odata=nometadata;streaming=true;charset=utf-8' },
          ),
      },
    },
  });
}
