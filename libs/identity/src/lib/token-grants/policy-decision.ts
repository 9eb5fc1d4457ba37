import type { PolicyAnswer, PolicyQuestion, TokenGrant } from '@broker/contracts';

/**
 * Decides a policy question against a consumer's grants (pure). The grants add up: the token may be
 * served if a grant covers its provider and its subject; the bounds on scopes and lifetime are the
 * widest among those grants (a grant without a bound lifts it). Refusals name the first rule no
 * grant satisfies: `grant` (none at all), `providers`, then `subjects`.
 */
export function decidePolicy(grants: readonly TokenGrant[], q: PolicyQuestion): PolicyAnswer {
  if (grants.length === 0) {
    return {
      allowed: false,
      rule: 'grant',
      message: `client '${q.clientId}' has no token grants: an admin must grant it access to provider tokens`,
    };
  }
  const byProvider = grants.filter((g) => coversProvider(g, q));
  if (byProvider.length === 0) {
    return {
      allowed: false,
      rule: 'providers',
      message: `client '${q.clientId}' is not granted tokens of provider ${q.providerId} (${q.providerType})`,
    };
  }
  const bySubject = byProvider.filter((g) => coversSubject(g, q));
  if (bySubject.length === 0) {
    const whose = q.actingFor === q.subject ? 'its own user' : `user '${q.subject}'`;
    return {
      allowed: false,
      rule: 'subjects',
      message: `client '${q.clientId}' is not granted tokens of ${whose} at provider ${q.providerId}`,
    };
  }
  let maxScopes: Set<string> | null = new Set();
  let maxLifetimeSeconds: number | null = 0;
  for (const g of bySubject) {
    if (maxScopes && g.maxScopes) for (const s of g.maxScopes) maxScopes.add(s);
    else maxScopes = null;
    maxLifetimeSeconds =
      maxLifetimeSeconds === null || g.maxLifetimeSeconds === null
        ? null
        : Math.max(maxLifetimeSeconds, g.maxLifetimeSeconds);
  }
  return { allowed: true, maxScopes: maxScopes ? [...maxScopes] : null, maxLifetimeSeconds };
}

function coversProvider(g: TokenGrant, q: PolicyQuestion): boolean {
  if (g.providers === '*') return true;
  return g.providers.ids.includes(q.providerId) || (g.providers.types as string[]).includes(q.providerType);
}

function coversSubject(g: TokenGrant, q: PolicyQuestion): boolean {
  switch (g.subjects.mode) {
    case 'org':
      return true;
    case 'users':
      return g.subjects.users.includes(q.subject);
    case 'self':
      // Only the user the caller acts for: a service account acts for nobody.
      return q.actingFor !== undefined && q.actingFor === q.subject;
  }
}
