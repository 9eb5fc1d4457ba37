// The demo provider's HTML: the page frame, and the sign-in interaction (any e-mail address signs in;
// consent is granted with the sign-in, the broker being a first-party app of this demo provider).
import { createHash } from 'node:crypto';

export function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font:16px system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.4rem;font:inherit}button{margin-top:1rem;padding:.5rem 1.2rem;font:inherit}code{font-size:1.6rem}</style>
</head><body>${body}</body></html>`;
}

export const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 16_384) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/**
 * The sign-in interaction of `provider` (GET: the form; POST login: signs in; POST deny: declines).
 * `accounts` keeps who signed in and `save` persists it.
 */
export function createInteraction(provider, accounts, save) {
  return async function interaction(req, res, uid, action) {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error('interaction mismatch');
    if (req.method === 'GET') {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(
        page(
          'Sign in (demo)',
          `<h1>Sign in</h1><p>Demo identity provider: any e-mail address signs you in.</p>
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label for="email">E-mail</label><input id="email" name="email" type="email" required value="ada@example.test">
<label for="given_name">Given name</label><input id="given_name" name="given_name" value="Ada">
<label for="family_name">Family name</label><input id="family_name" name="family_name" value="Lovelace">
<button type="submit">Sign in</button></form>
<form method="post" action="/interaction/${escapeHtml(uid)}/deny"><button type="submit">Decline</button></form>`,
        ),
      );
      return;
    }
    if (req.method === 'POST' && action === 'login') {
      const form = await readForm(req);
      const email = (form.get('email') ?? '').trim().toLowerCase();
      if (!/^[^\s@]+@[^\s@]+$/.test(email)) {
        res.statusCode = 400;
        res.end(page('Sign in (demo)', '<p>Enter an e-mail address.</p>'));
        return;
      }
      const sub = `demo-${createHash('sha256').update(email).digest('hex').slice(0, 20)}`;
      const givenName = form.get('given_name')?.trim() || null;
      const familyName = form.get('family_name')?.trim() || null;
      accounts.set(sub, {
        email,
        email_verified: true,
        given_name: givenName,
        family_name: familyName,
        name: [givenName, familyName].filter(Boolean).join(' ') || email,
      });
      save();
      // The broker is a first-party app of this demo provider: consent is granted with the sign-in.
      const grant = new provider.Grant({ accountId: sub, clientId: details.params.client_id });
      grant.addOIDCScope(String(details.params.scope ?? 'openid'));
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { login: { accountId: sub }, consent: { grantId } }, { mergeWithLastSubmission: false });
      return;
    }
    if (req.method === 'POST' && action === 'deny') {
      // The person refuses: the client gets `error=access_denied` at its redirect URI.
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The user declined.' }, { mergeWithLastSubmission: false });
      return;
    }
    res.statusCode = 405;
    res.end();
  };
}
