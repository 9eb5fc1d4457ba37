#!/usr/bin/env node
// Plays the person who finishes a device flow (RFC 8628) at the demo identity provider, so the
// walkthrough needs no browser:
//
//   node tools/demo-idp/approve-device.mjs <verification_uri> <user_code> [email] [--deny]
//
// Opens verification_uri, enters the user code, confirms it (or cancels with --deny) and signs in
// with the e-mail address (any address works there). Prints "approved" or "denied"; exits 1 when
// the provider did not accept the code. The demo provider only, never real ones.
import { parseArgs } from 'node:util';

const USAGE = 'usage: node tools/demo-idp/approve-device.mjs <verification_uri> <user_code> [email] [--deny]';

let args;
try {
  args = parseArgs({ allowPositionals: true, options: { deny: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
} catch (err) {
  console.error(`${err.message}\n${USAGE}`);
  process.exit(2);
}
if (args.values.help) {
  console.log(USAGE);
  process.exit(0);
}
const [verificationUri, userCode, email = 'ada@example.test'] = args.positionals;
if (!verificationUri || !URL.canParse(verificationUri) || !userCode) {
  console.error(USAGE);
  process.exit(2);
}

const jar = new Map();

/** Requests `url`, following redirects and signing in on the sign-in page; resolves with the final page. */
async function browse(url, init) {
  let current = url;
  let next = init;
  for (let step = 0; step < 20; step++) {
    const headers = { ...(next?.headers ?? {}), ...(jar.size ? { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } : {}) };
    const res = await fetch(current, { ...next, headers, redirect: 'manual', signal: AbortSignal.timeout(15_000) });
    next = undefined;
    for (const cookie of res.headers.getSetCookie()) {
      const pair = cookie.split(';')[0];
      const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
      if (value) jar.set(name, value);
      else jar.delete(name);
    }
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      current = new URL(location, current).toString();
      continue;
    }
    const html = await res.text();
    if (res.status === 200 && /^\/interaction\/[^/]+$/.test(new URL(current).pathname) && html.includes('Sign in')) {
      current = `${current}/login`;
      next = form({ email, given_name: 'Demo', family_name: 'User' });
      continue;
    }
    return { url: current, status: res.status, html };
  }
  throw new Error('too many redirects');
}

function form(fields) {
  return { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() };
}

/** Submits the page's form `id` with its hidden fields and `extra`. */
function submit(page, id, extra = {}) {
  const match = new RegExp(`<form id="${id.replace('.', '\\.')}"[^>]*action="([^"]+)"[^>]*>([\\s\\S]*?)</form>`).exec(page.html);
  if (!match) throw new Error(`the page at ${new URL(page.url).pathname} has no form ${id} (status ${page.status})`);
  const fields = {};
  for (const [, name, value] of match[2].matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) fields[name] = value;
  return browse(new URL(match[1], page.url).toString(), form({ ...fields, ...extra }));
}

try {
  const entry = await browse(verificationUri);
  const confirm = await submit(entry, 'op.deviceInputForm', { user_code: userCode });
  if (!confirm.html.includes('op.deviceConfirmForm')) throw new Error('the provider did not accept the user code (wrong, expired or already used?)');
  const finished = await submit(confirm, 'op.deviceConfirmForm', args.values.deny ? { abort: 'yes' } : {});
  if (args.values.deny) {
    console.log('denied');
  } else if (/Device connected/.test(finished.html)) {
    console.log('approved');
  } else {
    throw new Error(`the provider did not confirm the device (status ${finished.status})`);
  }
} catch (err) {
  console.error(`approve-device: ${err.message}`);
  process.exit(1);
}
