#!/usr/bin/env node
// Plays the browser for the demo identity provider, so the walkthroughs need no browser:
//
//   node tools/demo-idp/sign-in.mjs <url> [email] [--stop-at <url-prefix>]
//
// Follows <url> (an authorization URL: the broker's /api/v1/oauth/authorize, or the `redirectUrl`
// its authorize call returns, i.e. the broker's consent start page, where it clicks "Continue" as the
// person would), signs in at the demo provider's page with the e-mail address (any address works
// there), follows the redirects and prints where the browser ends up: the last URL.
// It stops without requesting that URL when it starts with --stop-at, or when nothing listens
// there (an app's redirect URI that no server answers, e.g. http://127.0.0.1:8080/callback): its
// `code` and `state` are in the printed URL. The demo provider only, never real ones.
import { parseArgs } from 'node:util';

const USAGE = 'usage: node tools/demo-idp/sign-in.mjs <authorization-url> [email] [--stop-at <url-prefix>]';

let args;
try {
  args = parseArgs({ allowPositionals: true, options: { 'stop-at': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
} catch (err) {
  console.error(`${err.message}\n${USAGE}`);
  process.exit(2);
}
const [start, email = 'ada@example.test'] = args.positionals;
if (args.values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (!start || !URL.canParse(start)) {
  console.error(USAGE);
  process.exit(2);
}
const stopAt = args.values['stop-at'];

const jars = new Map(); // origin -> cookie name -> value
let url = start;
let form; // a form to post to `url` (the consent start page's "Continue")
for (let step = 0; step < 20; step++) {
  if (stopAt && url.startsWith(stopAt)) done(url);
  const target = new URL(url);
  const jar = jars.get(target.origin) ?? new Map();
  jars.set(target.origin, jar);
  const isLogin = /^\/interaction\/[^/]+$/.test(target.pathname);
  let res;
  try {
    const body = isLogin ? new URLSearchParams({ email, given_name: 'Demo', family_name: 'User' }) : form;
    form = undefined;
    res = await fetch(isLogin ? `${url}/login` : url, {
      redirect: 'manual',
      headers: jar.size ? { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } : {},
      ...(body ? { method: 'POST', body } : {}),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    // Nothing listens at an app's redirect URI: that is where the browser would land, with the code.
    if (step > 0 && (target.searchParams.has('code') || target.searchParams.has('error'))) done(url);
    console.error(`sign-in: could not reach ${target.origin}${target.pathname}: ${err.cause?.code ?? err.message}`);
    process.exit(1);
  }
  for (const cookie of res.headers.getSetCookie()) {
    const pair = cookie.split(';')[0];
    jar.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
  }
  // The broker's consent start page (or a hosted OAuth setup page, the same page): post its form
  // ("Continue", to /connect/start), with the cookie it just set.
  if (res.status === 200 && (target.pathname === '/connect/start' || target.pathname.startsWith('/connect/setup/'))) {
    const html = await res.text();
    const fields = [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map(([, n, v]) => /** @type {[string, string]} */ ([n, v]));
    if (fields.length) {
      form = new URLSearchParams(fields);
      url = new URL('/connect/start', url).toString();
      continue;
    }
  }
  const location = res.headers.get('location');
  if (!location) {
    await res.body?.cancel().catch(() => {});
    if (!res.ok) {
      console.error(`sign-in: ${target.origin}${target.pathname} answered ${res.status}`);
      console.log(url);
      process.exit(1);
    }
    done(url);
  }
  url = new URL(location, url).toString();
}
console.error('sign-in: too many redirects');
process.exit(1);

function done(last) {
  console.log(last);
  process.exit(0);
}
