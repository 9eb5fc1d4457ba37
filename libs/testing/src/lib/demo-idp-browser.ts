/**
 * A person's browser at the demo identity provider, with its own cookie jar: `navigate` follows
 * redirects by hand and fills in the sign-in page (as `email`, Ada Lovelace) until a URL starting
 * with `stopAt` or a page that is neither; `submit` posts a page's form with its hidden fields.
 */
export function demoIdpBrowser(email = 'ada@example.test') {
  const jar = new Map<string, string>();
  async function request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, {
      ...init,
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
    });
    for (const cookie of res.headers.getSetCookie()) {
      const pair = cookie.split(';')[0];
      const eq = pair.indexOf('=');
      const [name, value] = [pair.slice(0, eq), pair.slice(eq + 1)];
      if (value) jar.set(name, value);
      else jar.delete(name);
    }
    return res;
  }

  /**
   * Goes to `url` (with `init` for the first request), following redirects and filling in the
   * sign-in page, until a URL starting with `stopAt` (not requested) or a page that is neither.
   */
  async function navigate(
    url: string,
    init?: RequestInit,
    stopAt?: string,
  ): Promise<{ url: string; status: number; html: string }> {
    let current = url;
    let next = init;
    for (let step = 0; step < 15; step++) {
      if (stopAt && current.startsWith(stopAt)) return { url: current, status: 0, html: '' };
      const res = await request(current, next);
      next = undefined;
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel();
        current = new URL(location, current).toString();
        continue;
      }
      const html = await res.text();
      if (
        res.status === 200 &&
        /^\/interaction\/[^/]+$/.test(new URL(current).pathname) &&
        html.includes('Sign in')
      ) {
        current = `${current}/login`;
        next = {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ email, given_name: 'Ada', family_name: 'Lovelace' }).toString(),
        };
        continue;
      }
      return { url: current, status: res.status, html };
    }
    throw new Error(`too many steps from ${url}`);
  }

  /** Submits the page's form `formId` with its hidden fields plus `extra`. */
  function submit(page: { url: string; html: string }, formId: string, extra: Record<string, string> = {}) {
    const form = new RegExp(
      `<form id="${formId.replace('.', '\\.')}"[^>]*action="([^"]+)"[^>]*>([\\s\\S]*?)</form>`,
    ).exec(page.html);
    if (!form) throw new Error(`no form ${formId} on ${page.url}: ${page.html.slice(0, 300)}`);
    const fields = new URLSearchParams();
    for (const [, name, value] of form[2].matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g))
      fields.set(name, value);
    for (const [name, value] of Object.entries(extra)) fields.set(name, value);
    return navigate(new URL(form[1], page.url).toString(), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: fields.toString(),
    });
  }

  return { navigate, submit };
}
