import type { Response } from 'express';
import type { ConsentPage } from '@broker/contracts';

/**
 * The hosted pages' templates: small server-rendered HTML, one stylesheet (STYLE) and one layout,
 * so a deployment (or the hosted connect page built on them) can restyle them in one place. No
 * script anywhere; the Content-Security-Policy allows only the inline stylesheet carrying this
 * response's nonce.
 */
const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.5rem;margin:0 0 1rem}.who{padding:.8rem 1rem;border:1px solid #d0d0d5;border-radius:.5rem;background:#f7f7f9}
.actions{display:flex;gap:1rem;align-items:center;margin-top:1.5rem}button{font:inherit;padding:.55rem 1.3rem;border-radius:.4rem;border:1px solid #0b57d0;background:#0b57d0;color:#fff;cursor:pointer}
a{color:#0b57d0}.muted{color:#5f6368;font-size:.9rem}code{font-size:.9rem}`;

/** HTML-escapes a value for text and attribute positions. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The CSP nonce of this response (set by the security-headers middleware). */
function nonceOf(res: Response): string {
  const nonce = (res.locals as { cspNonce?: unknown }).cspNonce;
  return typeof nonce === 'string' ? nonce : '';
}

function layout(res: Response, title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${escapeHtml(title)}</title><style nonce="${escapeHtml(nonceOf(res))}">${STYLE}</style></head>
<body>${body}</body></html>`;
}

/** A refusal or failure: what happened, what to do; nothing linked, nothing to click through. */
export function renderErrorPage(res: Response, page: { title: string; message: string }): string {
  return layout(res, page.title, `<h1>${escapeHtml(page.title)}</h1><p>${escapeHtml(page.message)}</p>`);
}

/**
 * The consent start page: names the provider and the account the connection will belong to, so a
 * person sent here by someone else sees whose account they would be linking, and continues only
 * by their own click (a form posted with this browser's consent cookie).
 */
export function renderConsentStart(res: Response, page: { consent: ConsentPage; flow: string; nonce: string; action: string; cancel: string }): string {
  const { consent } = page;
  return layout(
    res,
    `Connect ${consent.providerName}`,
    `<h1>Connect your ${escapeHtml(consent.providerName)} account</h1>
<p>The account you choose at ${escapeHtml(consent.providerName)} will be linked to:</p>
<p class="who"><strong>${escapeHtml(consent.userLabel)}</strong><br><span class="muted">organisation ${escapeHtml(consent.orgId)}</span></p>
<p class="muted">Continue only if you started this yourself, from your own application. If someone sent you this link, close this page.</p>
<form method="post" action="${escapeHtml(page.action)}">
<input type="hidden" name="flow" value="${escapeHtml(page.flow)}"><input type="hidden" name="nonce" value="${escapeHtml(page.nonce)}">
<div class="actions"><button type="submit">Continue to ${escapeHtml(consent.providerName)}</button><a href="${escapeHtml(page.cancel)}">Cancel</a></div>
</form>
<p class="muted">This link expires at ${escapeHtml(consent.expiresAt)}.</p>`,
  );
}

/** Where the browser lands after the provider: whether the account is linked (no secrets on it). */
export function renderConnectResult(res: Response, result: { ok: boolean; authorizedProviderId?: string; error?: string }): string {
  return result.ok
    ? layout(
        res,
        'Connected',
        `<h1>Connected</h1><p>The account is linked (authorized provider <code>${escapeHtml(result.authorizedProviderId)}</code>). You can close this window.</p>`,
      )
    : layout(res, 'Not connected', `<h1>Not connected</h1><p>The provider connection did not complete (${escapeHtml(result.error)}). Start again from the application.</p>`);
}
