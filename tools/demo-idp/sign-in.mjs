#!/usr/bin/env node
// Plays the browser for the demo identity provider: `node tools/demo-idp/sign-in.mjs <url> [email]`
// follows <url> (the `redirectUrl` the broker's authorize call returns: the broker's consent start
// page, where it clicks "Continue" as the person would, or a provider authorization URL), signs in at
// the demo provider's page with the e-mail address (any address works there), follows the redirects
// back to the broker's callback and prints where the browser ends up.
// For trying the broker without a browser; the demo provider only, never real ones.
const [, , start, email = 'ada@example.test'] = process.argv;
if (!start) {
  console.error('usage: node tools/demo-idp/sign-in.mjs <authorization-url> [email]');
  process.exit(2);
}
const jar = new Map();
let url = start;
let form;
for (let step = 0; step < 15; step++) {
  const target = new URL(url);
  const isLogin = /^\/interaction\/[^/]+$/.test(target.pathname);
  const headers = { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') };
  const body = isLogin ? new URLSearchParams({ email, given_name: 'Demo', family_name: 'User' }) : form;
  form = undefined;
  const res = await fetch(isLogin ? `${url}/login` : url, { redirect: 'manual', headers, ...(body ? { method: 'POST', body } : {}) }).catch(() => null);
  if (!res) {
    // Nothing listens there (an app's own redirect URL in a walkthrough): that is where the browser lands.
    console.log(url);
    process.exit(0);
  }
  for (const cookie of res.headers.getSetCookie()) {
    const pair = cookie.split(';')[0];
    jar.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
  }
  // The broker's consent start page (or a hosted OAuth setup page, the same page): post its form
  // ("Continue", to /connect/start), with the cookie it just set.
  if (res.status === 200 && (target.pathname === '/connect/start' || target.pathname.startsWith('/connect/setup/'))) {
    const html = await res.text();
    const fields = [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map(([, n, v]) => [n, v]);
    if (fields.length) {
      form = new URLSearchParams(fields);
      url = new URL('/connect/start', url).toString();
      continue;
    }
  }
  const location = res.headers.get('location');
  if (!location) {
    console.log(url);
    process.exit(res.ok ? 0 : 1);
  }
  url = new URL(location, url).toString();
}
console.error('too many redirects');
process.exit(1);
