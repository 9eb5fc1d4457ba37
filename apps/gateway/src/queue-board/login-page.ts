import { escapeHtml as escape } from '../pages/page-templates';
import { DASHBOARD_PATH } from './dashboard-session';

/**
 * The dashboard's sign-in form: the operator pastes an access token of the operator org holding
 * `queues:dashboard`; it is posted in the body (never a URL) and exchanged for a session cookie.
 */
export function loginPage(nonce: string, message?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex">
<title>Queue dashboard: sign in</title>
<style nonce="${escape(nonce)}">body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}textarea{width:100%;height:8rem;font-family:monospace}.error{color:#a00}</style>
</head><body>
<h1>Queue dashboard</h1>
<p>Sign in with an access token of the operator org that holds the <code>queues:dashboard</code> scope
(<code>npm run admin -- create-client --org &lt;operator org&gt; --scopes queues:dashboard</code>, then the
client credentials grant at <code>/api/v1/oauth/token</code>).</p>
${message ? `<p class="error" role="alert">${escape(message)}</p>` : ''}
<form method="post" action="${DASHBOARD_PATH}/login" autocomplete="off">
<label for="access_token">Access token</label>
<textarea id="access_token" name="access_token" required spellcheck="false"></textarea>
<p><button type="submit">Sign in</button></p>
</form>
</body></html>
`;
}
