import { demoIdpBrowser } from './demo-idp-browser';

/**
 * The broker's consent start page (`/connect/start`): its form's fields, to post it as the person
 * clicking "Continue" would. Undefined for any other page.
 */
export function consentStartForm(html: string): Record<string, string> | undefined {
  if (!/<form method="post" action="\/connect\/start">/.test(html)) return undefined;
  const fields: Record<string, string> = {};
  for (const [, name, value] of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g))
    fields[name] = value;
  return fields;
}

/** The hidden fields of the broker's confirmation page for a client identified by URL, with `decision=allow`. */
export function clientConsentForm(html: string): Record<string, string> | undefined {
  if (!/<form method="post" action="\/api\/v1\/oauth\/authorize\/confirm">/.test(html)) return undefined;
  const fields: Record<string, string> = {};
  for (const [, name, value] of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g))
    fields[name] = decodeEntities(value);
  return { ...fields, decision: 'allow' };
}

/** The page escapes every character of `&<>"'` as a numeric entity. */
function decodeEntities(value: string): string {
  return value.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
}

/**
 * Plays the browser at the bundled demo identity provider (tools/demo-idp): follows redirects from
 * `url` (confirming the broker's consent start page on the way, as its user would), signs in on the
 * provider's page as `email` (any address works there), and stops at the first URL for which
 * `until` is true, without requesting it. Cookies are kept per origin; `jars` lets the caller keep
 * them (the consent cookie is needed at the broker's callback).
 */
export async function signInAtDemoIdp(
  url: string,
  email: string,
  until: (url: string) => boolean,
  profile: { given_name?: string; family_name?: string } = { given_name: 'Ada', family_name: 'Lovelace' },
  jars = new Map<string, Map<string, string>>(),
): Promise<URL> {
  let current = url;
  let form: Record<string, string> | undefined;
  for (let step = 0; step < 15; step++) {
    if (until(current)) return new URL(current);
    const target = new URL(current);
    const jar = jars.get(target.origin) ?? new Map<string, string>();
    jars.set(target.origin, jar);
    const isLogin = /^\/interaction\/[^/]+$/.test(target.pathname);
    const body = isLogin
      ? new URLSearchParams({ email, ...profile })
      : form
        ? new URLSearchParams(form)
        : undefined;
    form = undefined;
    const res = await fetch(isLogin ? `${current}/login` : current, {
      redirect: 'manual',
      headers: jar.size ? { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } : {},
      ...(body ? { method: 'POST', body } : {}),
    });
    for (const cookie of res.headers.getSetCookie()) {
      const pair = cookie.split(';')[0];
      jar.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
    }
    const page = res.status === 200 ? await res.text() : '';
    // The start page (or a hosted OAuth setup page, the same page): its form is posted to /connect/start.
    if (
      (target.pathname === '/connect/start' || target.pathname.startsWith('/connect/setup/')) &&
      (form = consentStartForm(page))
    ) {
      current = `${target.origin}/connect/start`;
      continue;
    }
    // The broker's confirmation page for a client identified by URL: the person continues.
    if (target.pathname === '/api/v1/oauth/authorize' && (form = clientConsentForm(page))) {
      current = `${target.origin}/api/v1/oauth/authorize/confirm`;
      continue;
    }
    const location = res.headers.get('location');
    if (!location)
      throw new Error(
        `no redirect at ${target.origin}${target.pathname} (${res.status}): ${(page || (await res.text())).slice(0, 200)}`,
      );
    current = new URL(location, current).toString();
  }
  throw new Error('too many redirects');
}

/**
 * Plays the user of the device flow at the demo identity provider: opens `verificationUri`, enters
 * `userCode`, then confirms (signing in as `email`) or, with `deny`, cancels. Resolves with the
 * last page's HTML ("Device connected" on success).
 */
export async function approveDeviceAtDemoIdp(
  verificationUri: string,
  userCode: string,
  email: string,
  options: { deny?: boolean } = {},
): Promise<string> {
  const person = demoIdpBrowser(email);
  const input = await person.navigate(verificationUri);
  const confirm = await person.submit(input, 'op.deviceInputForm', { user_code: userCode });
  const done = await person.submit(confirm, 'op.deviceConfirmForm', options.deny ? { abort: 'yes' } : {});
  return done.html;
}
