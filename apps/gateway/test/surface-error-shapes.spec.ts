import {
  ArgumentsHost,
  BadRequestException,
  ExceptionFilter,
  ForbiddenException,
  Logger,
} from '@nestjs/common';
import { BusRemoteError, BusTimeoutError, BusUnavailableError } from '@broker/bus';
import { ExternalAuthErrorFilter } from '../src/external-auth/external-auth-error.filter';
import {
  BearerChallengeError,
  ExternalOAuthErrorFilter,
} from '../src/external-oauth/external-oauth-error.filter';
import { OAuthErrorFilter } from '../src/oauth/oauth-error.filter';
import { OAuthSetupsErrorFilter } from '../src/oauth-setups/oauth-setups-error.filter';

/** What a filter sent: status, headers and body, through a stand-in for Fastify's reply. */
function answer(filter: ExceptionFilter, error: unknown) {
  const sent = { status: 0, headers: {} as Record<string, string>, body: undefined as unknown };
  const reply = {
    header(name: string, value: string) {
      sent.headers[name] = value;
      return reply;
    },
    status(code: number) {
      sent.status = code;
      return reply;
    },
    send(body: unknown) {
      sent.body = body;
      return reply;
    },
  };
  const host = { switchToHttp: () => ({ getResponse: () => reply }) } as unknown as ArgumentsHost;
  filter.catch(error, host);
  return sent;
}

const refusal = () =>
  new BusRemoteError('tokens.acquire', {
    code: 'UNPROCESSABLE',
    message: 'scopes are not granted',
    fields: [{ name: 'scopes', message: 'must be granted' }],
  });
const ownUnavailable = () =>
  new BusRemoteError('tokens.acquire', { code: 'UNAVAILABLE', message: 'the provider refused the token' });
const internalAnswer = () =>
  new BusRemoteError('tokens.acquire', { code: 'INTERNAL', message: 'boom at line 3' });
const parserError = () =>
  Object.assign(new Error('Unexpected token } in JSON at {"secret"'), {
    status: 400,
    type: 'entity.parse.failed',
  });
const tooLarge = () =>
  Object.assign(new Error('request entity too large'), { status: 413, type: 'entity.too.large' });
const outage = 'A backing service is unavailable; try again shortly.';

/**
 * Each API surface words one shared judgement of an error (apps/gateway/src/http/error-verdict.ts)
 * in its own documented shape: these pin every surface's answer for every kind of error.
 */
describe('the surfaces’ error shapes', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it('seed 000 (externalOAuth): {message, errorFields}', () => {
    const f = new ExternalOAuthErrorFilter();
    expect(answer(f, refusal())).toMatchObject({
      status: 422,
      body: {
        message: 'scopes are not granted',
        errorFields: [{ name: 'scopes', message: 'must be granted' }],
      },
    });
    expect(answer(f, ownUnavailable())).toMatchObject({
      status: 503,
      body: { message: 'the provider refused the token', errorFields: [] },
    });
    expect(answer(f, new BusTimeoutError('tokens.acquire', 50))).toMatchObject({
      status: 503,
      body: { message: outage, errorFields: [] },
    });
    expect(answer(f, new BusUnavailableError('tokens.acquire', 'closed')).body).toEqual({
      message: outage,
      errorFields: [],
    });
    expect(answer(f, parserError())).toMatchObject({
      status: 422,
      body: {
        message: 'The request body is not valid JSON.',
        errorFields: [{ name: 'body', message: 'must be valid JSON' }],
      },
    });
    expect(answer(f, tooLarge())).toMatchObject({
      status: 413,
      body: { message: 'The request body cannot be read.' },
    });
    expect(answer(f, new ForbiddenException(['a', 'b']))).toMatchObject({
      status: 403,
      body: { message: 'a; b' },
    });
    const challenged = answer(f, new BearerChallengeError(401, 'sign in', 'Bearer realm="broker"'));
    expect(challenged).toMatchObject({
      status: 401,
      headers: { 'WWW-Authenticate': 'Bearer realm="broker"' },
      body: { message: 'sign in', errorFields: [] },
    });
    const failed = answer(f, internalAnswer());
    expect(failed.status).toBe(500);
    expect(JSON.stringify(failed.body)).toMatch(
      /^\{"message":"Internal error \(error id [0-9a-f-]{36}\)\.","errorFields":\[\]\}$/,
    );
  });

  it('seed 001 (external-auth): codersdk.Response', () => {
    const f = new ExternalAuthErrorFilter();
    expect(answer(f, refusal())).toMatchObject({
      status: 422,
      body: {
        message: 'scopes are not granted',
        validations: [{ field: 'scopes', detail: 'must be granted' }],
      },
    });
    expect(
      answer(f, new BusRemoteError('p', { code: 'NOT_FOUND', message: 'no such provider' })).body,
    ).toEqual({
      message: 'no such provider',
    });
    expect(answer(f, ownUnavailable())).toMatchObject({
      status: 503,
      body: { message: 'the provider refused the token' },
    });
    expect(answer(f, new BusTimeoutError('p', 50))).toMatchObject({ status: 503, body: { message: outage } });
    expect(answer(f, parserError())).toMatchObject({
      status: 400,
      body: { message: 'The body is not valid JSON.' },
    });
    expect(answer(f, tooLarge())).toMatchObject({
      status: 413,
      body: { message: 'The request body cannot be read.' },
    });
    expect(
      answer(f, new BearerChallengeError(403, 'not yours', 'Bearer error="insufficient_scope"')),
    ).toMatchObject({
      status: 403,
      headers: { 'WWW-Authenticate': 'Bearer error="insufficient_scope"' },
      body: { message: 'not yours' },
    });
    const failed = answer(f, internalAnswer());
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({
      message: 'Internal error.',
      detail: expect.stringMatching(/^error id [0-9a-f-]{36}$/),
    });
  });

  it('seed 002 (oauth-setups, webhooks): {object, status, code, message, errors}', () => {
    const f = new OAuthSetupsErrorFilter();
    expect(answer(f, refusal())).toMatchObject({
      status: 422,
      body: {
        object: 'error',
        status: 422,
        code: 'invalid_data',
        message: 'scopes are not granted',
        errors: [{ field: 'scopes', message: 'must be granted' }],
      },
    });
    // Every outage alike on this surface, a service's own UNAVAILABLE words included.
    expect(answer(f, ownUnavailable()).body).toMatchObject({
      status: 503,
      code: 'unavailable',
      message: outage,
    });
    expect(answer(f, parserError()).body).toMatchObject({
      status: 400,
      message: 'The request body is not valid JSON.',
      errors: [{ field: 'body', message: 'must be valid JSON' }],
    });
    expect(answer(f, tooLarge()).body).toMatchObject({ status: 413, code: 'payload_too_large' });
    expect(answer(f, new ForbiddenException('not yours')).body).toMatchObject({
      status: 403,
      code: 'forbidden',
      message: 'not yours',
    });
    expect(answer(f, new BearerChallengeError(401, 'sign in', 'Bearer')).headers).toEqual({
      'WWW-Authenticate': 'Bearer',
    });
    const failed = answer(f, internalAnswer());
    expect(failed.body).toMatchObject({
      status: 500,
      code: 'internal_error',
      message: expect.stringMatching(/^Internal error \(error id /),
    });
  });

  it('seed 003 (/api/v1/oauth): RFC 6749 §5.2 and FastAPI {detail}', () => {
    const f = new OAuthErrorFilter();
    const refused = answer(f, refusal());
    expect(refused).toMatchObject({
      status: 422,
      headers: { 'Cache-Control': 'no-store' },
      body: { detail: 'scopes are not granted' },
    });
    const outageBody = {
      error: 'temporarily_unavailable',
      error_description: 'the authorization server is unavailable; try again shortly',
    };
    expect(answer(f, ownUnavailable())).toMatchObject({ status: 503, body: outageBody });
    // A service's INTERNAL answer is the authorization server being unavailable too.
    expect(answer(f, internalAnswer())).toMatchObject({ status: 503, body: outageBody });
    expect(answer(f, parserError())).toMatchObject({
      status: 422,
      body: { detail: [{ loc: ['body'], msg: 'JSON decode error', type: 'json_invalid' }] },
    });
    expect(answer(f, new BadRequestException('Unexpected token in JSON')).status).toBe(422);
    expect(answer(f, tooLarge())).toMatchObject({
      status: 413,
      body: { detail: 'The request body cannot be read.' },
    });
    expect(answer(f, new ForbiddenException(['a', 'b'])).body).toEqual({
      error: 'invalid_request',
      error_description: 'a; b',
    });
    expect(answer(f, new ForbiddenException({ detail: 'Not authorized' })).body).toEqual({
      detail: 'Not authorized',
    });
    const challenged = answer(
      f,
      Object.assign(new ForbiddenException('no'), { challenge: 'Bearer error="invalid_token"' }),
    );
    expect(challenged.headers['WWW-Authenticate']).toBe('Bearer error="invalid_token"');
    const failed = answer(f, new Error('a bug with a secret in it'));
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({
      error: 'server_error',
      error_description: expect.stringMatching(/^internal error \(error id [0-9a-f-]{36}\)$/),
    });
    expect(JSON.stringify(failed.body)).not.toContain('secret');
  });
});
