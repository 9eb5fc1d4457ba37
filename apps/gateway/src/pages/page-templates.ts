import type { FastifyReply } from 'fastify';
import type { ConsentPage, SetupPageInfo } from '@broker/contracts';

/**
 * The hosted pages' templates: small server-rendered HTML, one stylesheet (STYLE) and one layout,
 * so a deployment (or the hosted connect page built on them) can restyle them in one place. No
 * script anywhere; the Content-Security-Policy allows only the inline stylesheet carrying this
 * response's nonce.
 */
const STYLE = `body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#fff}
main{max-width:34rem;margin:3rem auto;padding:0 1rem}@media (max-width:30rem){main{margin:1.5rem auto}}
h1{font-size:1.5rem;line-height:1.3;margin:0 0 1rem}h2{font-size:1.05rem;margin:1.5rem 0 .5rem}
.who{padding:.8rem 1rem;border:1px solid #d0d0d5;border-radius:.5rem;background:#f7f7f9;overflow-wrap:anywhere}
ul.scopes{list-style:none;padding:0;margin:0}ul.scopes li{padding:.6rem 0;border-bottom:1px solid #e3e3e8}ul.scopes li:last-child{border-bottom:0}
.scope-name{font-weight:600;display:block}
.actions{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;margin-top:1.5rem}
button,.button{font:inherit;padding:.65rem 1.4rem;border-radius:.4rem;border:1px solid #0b57d0;background:#0b57d0;color:#fff;cursor:pointer;text-decoration:none;display:inline-block}
a{color:#0b57d0}.muted{color:#4d5156;font-size:.9rem}code{font-size:.9rem;overflow-wrap:anywhere}
a:focus-visible,button:focus-visible{outline:3px solid #1d1d1f;outline-offset:2px}
.status{padding:.8rem 1rem;border-radius:.5rem;border:1px solid}.status.ok{background:#e8f5ec;border-color:#1e7b34}.status.bad{background:#fdecea;border-color:#b3261e}`;

/** HTML-escapes a value for text and attribute positions. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The CSP nonce of this response (set by the security-headers middleware). */
function nonceOf(res: FastifyReply): string {
  return res.cspNonce;
}

function layout(res: FastifyReply, title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${escapeHtml(title)}</title><style nonce="${escapeHtml(nonceOf(res))}">${STYLE}</style></head>
<body><main>${body}</main></body></html>`;
}

/** A refusal or failure: what happened, what to do; nothing linked, nothing to click through. */
export function renderErrorPage(res: FastifyReply, page: { title: string; message: string }): string {
  return layout(res, page.title, `<h1>${escapeHtml(page.title)}</h1><p>${escapeHtml(page.message)}</p>`);
}

/**
 * The consent start page: names the provider and the account the connection will belong to, so a
 * person sent here by someone else sees whose account they would be linking, and continues only
 * by their own click (a form posted with this browser's consent cookie).
 */
export function renderConsentStart(
  res: FastifyReply,
  page: {
    consent: ConsentPage;
    flow: string;
    nonce: string;
    action: string;
    cancel: string;
    setup?: SetupPageInfo;
  },
): string {
  const { consent, setup } = page;
  return layout(
    res,
    `Connect ${consent.providerName}`,
    `<h1>Connect your ${escapeHtml(consent.providerName)} account</h1>
<p>The account you choose at ${escapeHtml(consent.providerName)} will be linked to:</p>
<p class="who"><strong>${escapeHtml(consent.userLabel)}</strong><br><span class="muted">organisation ${escapeHtml(consent.orgId)}</span></p>
${setup ? renderAccess(consent.providerName, setup) : ''}<p class="muted">Continue only if you started this yourself, from your own application. If someone sent you this link, close this page.</p>
<form method="post" action="${escapeHtml(page.action)}">
<input type="hidden" name="flow" value="${escapeHtml(page.flow)}"><input type="hidden" name="nonce" value="${escapeHtml(page.nonce)}">
<div class="actions"><button type="submit">Continue to ${escapeHtml(consent.providerName)}</button><a href="${escapeHtml(page.cancel)}">Cancel</a></div>
</form>
<p class="muted">This link expires at ${escapeHtml(consent.expiresAt)}.</p>`,
  );
}

/** What a hosted setup asks for, scope by scope, in words. */
function renderAccess(providerName: string, setup: SetupPageInfo): string {
  const items = setup.scopes
    .map(
      (s) =>
        `<li><span class="scope-name">${escapeHtml(s.name)}</span><span class="muted">${escapeHtml(s.description)}</span></li>`,
    )
    .join('');
  return `<h2 id="access">${escapeHtml(setup.name ?? 'The application')} asks ${escapeHtml(providerName)} for</h2>
${setup.description ? `<p>${escapeHtml(setup.description)}</p>` : ''}<ul class="scopes" aria-labelledby="access">${items}</ul>`;
}

/** Where the browser lands after the provider: whether the account is linked (no secrets on it). */
export function renderConnectResult(
  res: FastifyReply,
  result: { ok: boolean; authorizedProviderId?: string; error?: string },
): string {
  return result.ok
    ? layout(
        res,
        'Connected',
        `<h1>Connected</h1><p class="status ok">The account is linked (authorized provider <code>${escapeHtml(result.authorizedProviderId)}</code>). You can close this window.</p>`,
      )
    : layout(
        res,
        'Not connected',
        `<h1>Not connected</h1><p class="status bad">${escapeHtml(FAILURE_WORDS[result.error ?? ''] ?? 'The provider connection did not complete.')}</p><p>Start again from the application.</p>`,
      );
}

/** Why a connection did not complete, in words (the provider's error codes are not for people). */
const FAILURE_WORDS: Record<string, string> = {
  access_denied: 'You (or the provider) declined the access, so nothing was connected.',
  cancelled: 'You cancelled, so nothing was connected.',
  temporarily_unavailable: 'The provider did not answer, so nothing was connected.',
  invalid_request: 'The provider’s answer could not be used, so nothing was connected.',
};

/** A page with a title, words and one link onward (a hosted setup's end when it has no redirect, or an error with a way forward). */
export function renderMessagePage(
  res: FastifyReply,
  page: { title: string; message: string; ok?: boolean; link?: { href: string; text: string } },
): string {
  return layout(
    res,
    page.title,
    `<h1>${escapeHtml(page.title)}</h1><p class="status ${page.ok ? 'ok' : 'bad'}">${escapeHtml(page.message)}</p>${
      page.link
        ? `<p class="actions"><a class="button" href="${escapeHtml(page.link.href)}">${escapeHtml(page.link.text)}</a></p>`
        : ''
    }`,
  );
}

/**
 * The confirmation page for a client identified by URL (a client ID metadata document): anybody can
 * publish a document with any name and logo, so both are marked as the client's own, unverified
 * words, next to the one verified fact: the host that served the document. The person continues
 * only by their own click (a form posted with this browser's cookie).
 */
export function renderClientConsent(
  res: FastifyReply,
  page: {
    clientName: string | null;
    logoUri: string | null;
    host: string;
    clientId: string;
    redirectHost: string;
    scopes: string[];
    fields: Record<string, string>;
    action: string;
  },
): string {
  const hidden = Object.entries(page.fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  const name = page.clientName ?? page.host;
  return layout(
    res,
    `Sign in to ${name}?`,
    `<h1>An application wants you to sign in</h1>
<div class="who">${page.logoUri ? `<img src="${escapeHtml(page.logoUri)}" alt="" width="48" height="48"> ` : ''}<strong>${escapeHtml(name)}</strong>
<br><span class="muted">Name${page.logoUri ? ' and logo' : ''} given by the application itself, <strong>not verified</strong>.</span>
<br><span class="muted">Identified by <code>${escapeHtml(page.clientId)}</code> (served by ${escapeHtml(page.host)}); it will receive your sign-in at ${escapeHtml(page.redirectHost)}.</span></div>
${page.scopes.length ? `<h2>It asks for</h2><ul class="scopes">${page.scopes.map((s) => `<li><span class="scope-name">${escapeHtml(s)}</span></li>`).join('')}</ul>` : ''}
<p class="muted">Continue only if you started this yourself from an application you trust.</p>
<form method="post" action="${escapeHtml(page.action)}">${hidden}
<div class="actions"><button type="submit" name="decision" value="allow">Continue</button><button type="submit" name="decision" value="deny" class="button">Cancel</button></div>
</form>`,
  );
}
