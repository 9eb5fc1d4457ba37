import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PATH_METADATA } from '@nestjs/common/constants';
import { DEFAULT_TIME_ZONE, SCOPES } from '@broker/contracts';
import { REQUIRED_SCOPES } from '@broker/auth-kit';
import { ExternalAuthController } from '../src/external-auth/external-auth.controller';
import {
  AuthorizedProvidersController,
  ConsentController,
} from '../src/external-oauth/authorized-providers.controller';
import { JobsController } from '../src/external-oauth/jobs.controller';
import { ProvidersController } from '../src/external-oauth/providers.controller';
import { OAuthSetupsController } from '../src/oauth-setups/oauth-setups.controller';
import { WebhooksController } from '../src/oauth-setups/webhooks.controller';

const ROOT = join(__dirname, '..', '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** Every scope a route of these controllers requires (class or handler metadata). */
function requiredScopes(controllers: (new (...args: never[]) => unknown)[]): Set<string> {
  const scopes = new Set<string>();
  for (const controller of controllers) {
    for (const s of (Reflect.getMetadata(REQUIRED_SCOPES, controller) as string[] | undefined) ?? [])
      scopes.add(s);
    for (const name of Object.getOwnPropertyNames(controller.prototype)) {
      const handler = (controller.prototype as Record<string, unknown>)[name];
      if (typeof handler !== 'function') continue;
      for (const s of (Reflect.getMetadata(REQUIRED_SCOPES, handler) as string[] | undefined) ?? [])
        scopes.add(s);
    }
  }
  return scopes;
}

/** The README's claims about the API surfaces, checked against the code that serves them. */
describe('README claims', () => {
  const v2 = [
    ProvidersController,
    JobsController,
    ConsentController,
    AuthorizedProvidersController,
    ExternalAuthController,
    OAuthSetupsController,
    WebhooksController,
  ];

  it('lists exactly the scopes the /api/v2 routes require, and says what the other scopes are for', () => {
    for (const controller of v2)
      expect(String(Reflect.getMetadata(PATH_METADATA, controller))).toMatch(/^\/?api\/v2\//);
    const sentence = README.split('Every `/api/v2` route needs')[1]?.split('):')[0] ?? '';
    const listed = [...sentence.matchAll(/`([a-z]+:[a-z]+)`/g)].map((m) => m[1]);
    expect(listed.sort()).toEqual([...requiredScopes(v2)].sort());
    // The scopes no /api/v2 route uses are explained, not listed as route scopes.
    for (const scope of SCOPES.filter((s) => !listed.includes(s)))
      expect(README).toMatch(new RegExp(`\`${scope}\` (is|are) (for|reserved)`));
  });

  it('says what invalid_client does as the token path does it (the authorization, not the provider)', () => {
    expect(README).toContain('mark the authorization\n`invalidOAuthClient`');
    expect(README).not.toMatch(/mark the provider's client invalid/);
  });

  it('names the seed’s default tz and links the differences from the reference APIs', () => {
    expect(README).toContain(`\`${DEFAULT_TIME_ZONE}\``);
    expect(README).toContain('(docs/reference-differences.md)');
    expect(existsSync(join(ROOT, 'docs', 'reference-differences.md'))).toBe(true);
  });
});
