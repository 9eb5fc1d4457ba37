import { BusException } from '@broker/bus';
import type { CreateOAuthSetupRequest } from '@broker/contracts';
import { ProviderEntity } from '../providers/provider.entity';
import { authMethodId, configProblems } from './auth-method';
import { OAuthSetupsOptions, SetupCaller } from './setup-row';

/**
 * Checks a new setup against its deployment and caller, all problems at once: the deployment must
 * be active (CONFLICT), credentials and auth method must be the deployment's, the config valid, a
 * service must name the user (a person may name only themself: FORBIDDEN), `expires_at` in the
 * future and within the maximum. Returns whose account it links and when it expires.
 */
export function checkNewSetup(
  caller: SetupCaller,
  deployment: ProviderEntity,
  body: CreateOAuthSetupRequest,
  options: Pick<OAuthSetupsOptions, 'defaultTtlMs' | 'maxTtlMs'>,
  now: number,
): { userId: string; expiresAt: Date } {
  const problems: { name: string; message: string }[] = [];
  if (deployment.status !== 'active')
    throw new BusException(
      'CONFLICT',
      `The deployment is ${deployment.status}; only an active one can take new setups.`,
    );
  if (
    body.provider_auth_credentials_id !== undefined &&
    body.provider_auth_credentials_id !== deployment.secureConfigId
  ) {
    problems.push({
      name: 'provider_auth_credentials_id',
      message: 'is not the credentials of this deployment',
    });
  }
  if (
    body.provider_auth_method_id !== undefined &&
    body.provider_auth_method_id !== authMethodId(deployment)
  ) {
    problems.push({
      name: 'provider_auth_method_id',
      message: `is not an auth method of this deployment (it has ${authMethodId(deployment)})`,
    });
  }
  for (const p of configProblems(deployment, body.config))
    problems.push({ name: p.field, message: p.message });
  let userId = caller.sub;
  if (caller.isService) {
    if (!body.user_id)
      problems.push({
        name: 'user_id',
        message: 'is required when a service creates a setup (the user whose account it links)',
      });
    else userId = body.user_id;
  } else if (body.user_id !== undefined && body.user_id !== caller.sub) {
    throw new BusException('FORBIDDEN', 'A person can create setups for their own account only.', [
      { name: 'user_id', message: 'must be your own user id' },
    ]);
  }
  let expiresAt = new Date(now + options.defaultTtlMs);
  if (body.expires_at !== undefined) {
    expiresAt = new Date(body.expires_at);
    if (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= now)
      problems.push({ name: 'expires_at', message: 'must be a date-time in the future' });
    else if (expiresAt.getTime() > now + options.maxTtlMs)
      problems.push({
        name: 'expires_at',
        message: `must be at most ${Math.round(options.maxTtlMs / 3_600_000)} hours from now`,
      });
  }
  if (problems.length) throw new BusException('UNPROCESSABLE', 'Invalid OAuth setup.', problems);
  return { userId, expiresAt };
}
