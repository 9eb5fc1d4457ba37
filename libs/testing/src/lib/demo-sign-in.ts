/**
 * Plays the browser at the bundled demo identity provider (tools/demo-idp): follows redirects from
 * `url`, signs in on its page as `email` (any address works there), and stops at the first URL for
 * which `until` is true, without requesting it. Cookies are kept per origin.
 */
export async function signInAtDemoIdp(
  url: string,
  email: string,
  until: (url: string) => boolean,
  profile: { given_name?: string; family_name?: string } = { given_name: 'Ada', family_name: 'Lovelace' },
): Promise<URL> {
  const jars = new Map<string, Map<string, string>>();
  let current = url;
  for (let step = 0; step < 15; step++) {
    if (until(current)) return new URL(current);
    const target = new URL(current);
    const jar = jars.get(target.origin) ?? new Map<string, string>();
    jars.set(target.origin, jar);
    const isLogin = /^\/interaction\/[^/]+$/.test(target.pathname);
    const res = await fetch(isLogin ? `${current}/login` : current, {
      redirect: 'manual',
      headers: jar.size ? { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } : {},
      ...(isLogin ? { method: 'POST', body: new URLSearchParams({ email, ...profile }) } : {}),
    });
    for (const cookie of res.headers.getSetCookie()) {
      const pair = cookie.split(';')[0];
      jar.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
    }
    const location = res.headers.get('location');
    if (!location) throw new Error(`no redirect at ${target.origin}${target.pathname} (${res.status}): ${(await res.text()).slice(0, 200)}`);
    current = new URL(location, current).toString();
  }
  throw new Error('too many redirects');
}
