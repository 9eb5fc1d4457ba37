import {
  checkUrlStatic,
  createGuardedFetch,
  DEFAULT_EGRESS_POLICY,
  EgressDeniedError,
  EgressPolicy,
  GuardedFetch,
  ResolvedAddress,
} from '../src';
import { json, redirect, startServer, TEST_CA, TestServer } from './support/servers';

/** What checkUrlStatic throws for `url` (fails the test when it does not throw). */
function denial(url: string, policy: EgressPolicy = DEFAULT_EGRESS_POLICY): EgressDeniedError {
  try {
    checkUrlStatic(url, policy);
  } catch (err) {
    expect(err).toBeInstanceOf(EgressDeniedError);
    return err as EgressDeniedError;
  }
  throw new Error(`${url} was not refused`);
}

/** A fake resolver: a fixed table, and a log of the names asked. */
function fakeDns(table: Record<string, string[]>) {
  const asked: string[] = [];
  const lookup = async (hostname: string): Promise<ResolvedAddress[]> => {
    asked.push(hostname);
    const answers = table[hostname];
    if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { lookup, asked };
}

describe('checkUrlStatic', () => {
  it('accepts https on 443 to a public name', () => {
    expect(checkUrlStatic('https://github.com/login/oauth/access_token').host).toBe('github.com');
    expect(checkUrlStatic('https://github.com:443/x').port).toBe('');
    expect(checkUrlStatic('https://8.8.8.8/').hostname).toBe('8.8.8.8');
  });

  it('refuses plain http, other schemes and non-URLs', () => {
    expect(denial('http://github.com/').reason).toMatch(/plain http/);
    expect(denial('ftp://github.com/').reason).toMatch(/scheme ftp:/);
    expect(denial('file:///etc/passwd').reason).toMatch(/scheme file:/);
    expect(denial('github.com/login').reason).toMatch(/not a valid absolute URL/);
  });

  it('refuses credentials in the URL without echoing them', () => {
    const err = denial('https://user:hunter2@github.com/');
    expect(err.reason).toMatch(/credentials/);
    expect(err.message).not.toContain('hunter2');
    expect(err.url).toBe('https://github.com/');
  });

  it('refuses ports outside allowedPorts', () => {
    expect(denial('https://github.com:8443/').reason).toBe('port 8443 is not allowed');
    expect(
      checkUrlStatic('https://github.com:8443/', { allowLoopback: false, allowedPorts: [443, 8443] }).port,
    ).toBe('8443');
    expect(denial('https://github.com/', { allowLoopback: false, allowedPorts: [8443] }).reason).toBe(
      'port 443 is not allowed',
    );
  });

  it.each([
    ['http://2130706433/', /loopback/],
    ['https://2130706433/', /loopback/],
    ['https://0x7f.1/', /loopback/],
    ['https://0177.0.0.1/', /loopback/],
    ['https://127.1/', /loopback/],
    ['https://[::1]/', /loopback/],
    ['https://[::ffff:127.0.0.1]/', /loopback/],
    ['https://10.0.0.1/', /private/],
    ['https://0xa.0.0.1/', /private/],
    ['https://167772161/', /private/],
    ['https://192.168.0.1/', /private/],
    ['https://[fd12::1]/', /unique local/],
    ['https://169.254.169.254/latest/meta-data/', /metadata/],
    ['https://0xa9fea9fe/', /metadata/],
    ['https://[fd00:ec2::254]/', /metadata/],
    ['https://[64:ff9b::a9fe:a9fe]/', /metadata.*NAT64/],
    ['https://[::ffff:a9fe:a9fe]/', /metadata.*IPv4-mapped/],
    ['https://100.64.0.1/', /CGNAT/],
    ['https://0.0.0.0/', /this network/],
    ['https://[::]/', /unspecified/],
    ['https://224.0.0.1/', /multicast/],
    ['https://255.255.255.255/', /broadcast/],
  ])('refuses the IP literal %s', (url, reason) => {
    expect(denial(url).reason).toMatch(reason);
  });

  it.each([
    ['https://localhost/', /loopback host name/],
    ['https://api.localhost/', /loopback host name/],
    ['https://localhost./', /loopback host name/],
    ['https://metadata.google.internal/', /\.internal/],
    ['https://printer.local/', /\.local/],
    ['https://1.0.0.127.in-addr.arpa/', /\.arpa/],
    ['https://router.home.arpa/', /\.home\.arpa/],
    ['https://intranet/', /single-label/],
  ])('refuses the host name %s', (url, reason) => {
    expect(denial(url).reason).toMatch(reason);
  });

  it('allowLoopback admits loopback (and http to it) but nothing else', () => {
    const dev: EgressPolicy = { allowLoopback: true, allowedPorts: [443, 80, 8080] };
    expect(checkUrlStatic('http://127.0.0.1:8080/x', dev).port).toBe('8080');
    expect(checkUrlStatic('http://localhost:8080/', dev).hostname).toBe('localhost');
    expect(checkUrlStatic('https://[::1]/', dev).hostname).toBe('[::1]');
    expect(denial('http://127.0.0.1:9999/', dev).reason).toBe('port 9999 is not allowed');
    expect(denial('http://169.254.169.254/', dev).reason).toMatch(/metadata/);
    expect(denial('https://10.0.0.1/', dev).reason).toMatch(/private/);
    expect(denial('http://good.test/', dev).reason).toMatch(/plain http/);
  });

  it('keeps query strings and fragments out of the error', () => {
    const err = denial('https://10.0.0.1/callback?code=SECRET-CODE&x=1#access_token=SECRET-TOKEN');
    expect(err.url).toBe('https://10.0.0.1/callback');
    expect(err.message).toContain('https://10.0.0.1/callback');
    expect(err.message).not.toMatch(/SECRET/);
  });
});

describe('createGuardedFetch', () => {
  const servers: TestServer[] = [];
  const fetches: GuardedFetch[] = [];
  const serve = async (...args: Parameters<typeof startServer>) => {
    const s = await startServer(...args);
    servers.push(s);
    return s;
  };
  const guarded = (...args: Parameters<typeof createGuardedFetch>) => {
    const f = createGuardedFetch(...args);
    fetches.push(f);
    return f;
  };
  const dev = (...ports: number[]): EgressPolicy => ({ allowLoopback: true, allowedPorts: [443, ...ports] });

  afterEach(async () => {
    await Promise.all(fetches.splice(0).map((f) => f.close()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('fetches from a loopback test provider when the policy allows loopback, as a global Response', async () => {
    const s = await serve((_req, res) => json(res, 200, { ok: true }));
    const f = guarded(dev(s.port));
    const res = await f(`${s.origin}/token?x=1`, { method: 'POST', body: new URLSearchParams({ a: 'b' }) });
    expect(res).toBeInstanceOf(Response);
    expect(res.status).toBe(200);
    expect(res.url).toBe(`${s.origin}/token?x=1`);
    expect(res.redirected).toBe(false);
    expect(await res.json()).toEqual({ ok: true });
    expect(s.requests[0]).toMatchObject({ method: 'POST', url: '/token?x=1', body: 'a=b' });
  });

  it('refuses loopback under the default policy without connecting', async () => {
    const s = await serve((_req, res) => json(res, 200, {}));
    const f = guarded(DEFAULT_EGRESS_POLICY);
    await expect(f(`${s.origin}/`)).rejects.toThrow(EgressDeniedError);
    await expect(f(`https://127.0.0.1:${s.port}/`)).rejects.toThrow(/loopback/);
    expect(s.requests).toHaveLength(0);
  });

  it('checks the resolved address at connection time: a name resolving to 10.0.0.1 is refused', async () => {
    const dns = fakeDns({ 'internal.test': ['10.0.0.1'] });
    const f = guarded(DEFAULT_EGRESS_POLICY, { lookup: dns.lookup });
    const err = await f('https://internal.test/oauth/token?client_secret=SECRET').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EgressDeniedError);
    expect((err as EgressDeniedError).reason).toMatch(/internal\.test resolves to 10\.0\.0\.1: private/);
    expect((err as Error).message).not.toContain('SECRET');
    expect(dns.asked).toEqual(['internal.test']);
  });

  it('refuses a name when ANY of its addresses is forbidden', async () => {
    const dns = fakeDns({
      'mixed.test': ['93.184.215.14', '10.0.0.1'],
      'mixed6.test': ['2606:4700:4700::1111', 'fd00:ec2::254'],
    });
    const f = guarded(DEFAULT_EGRESS_POLICY, { lookup: dns.lookup });
    await expect(f('https://mixed.test/')).rejects.toThrow(/resolves to 10\.0\.0\.1: private/);
    await expect(f('https://mixed6.test/')).rejects.toThrow(/resolves to fd00:ec2::254: cloud metadata/);
  });

  it('connects to the vetted address only, resolving once (no DNS rebinding)', async () => {
    const s = await serve((req, res) => json(res, 200, { host: req.headers.host }), { tls: true });
    let calls = 0;
    const lookup = async (hostname: string): Promise<ResolvedAddress[]> => {
      calls++;
      expect(hostname).toBe('good.test');
      // A rebinding resolver: a harmless first answer, then an internal one.
      return [{ address: calls === 1 ? '127.0.0.1' : '10.0.0.1', family: 4 }];
    };
    const f = guarded(dev(s.port), { lookup, ca: TEST_CA });
    const res = await f(`https://good.test:${s.port}/hello`);
    expect(await res.json()).toEqual({ host: `good.test:${s.port}` });
    expect(calls).toBe(1);
  });

  it('does not follow a redirect from an allowed provider to the metadata service or a private address', async () => {
    const s = await serve((req, res) => {
      if (req.url === '/to-metadata')
        return redirect(res, 302, 'http://169.254.169.254/latest/meta-data/?token=SECRET');
      if (req.url === '/to-private') return redirect(res, 307, 'https://10.0.0.1/');
      return redirect(res, 301, 'https://evil.test/steal');
    });
    const dns = fakeDns({ 'evil.test': ['10.0.0.7'] });
    const f = guarded(dev(s.port), { lookup: dns.lookup });
    const err = await f(`${s.origin}/to-metadata`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EgressDeniedError);
    expect((err as EgressDeniedError).reason).toMatch(/metadata/);
    expect((err as EgressDeniedError).url).toBe('http://169.254.169.254/latest/meta-data/');
    expect((err as Error).message).not.toContain('SECRET');
    await expect(f(`${s.origin}/to-private`)).rejects.toThrow(/private/);
    await expect(f(`${s.origin}/to-resolving-private`)).rejects.toThrow(/evil\.test resolves to 10\.0\.0\.7/);
    expect(dns.asked).toEqual(['evil.test']);
  });

  it('follows allowed redirects, keeping credentials on the same origin and dropping them on another', async () => {
    const b = await serve((_req, res) => json(res, 200, { at: 'b' }));
    const a = await serve((req, res) => {
      if (req.url === '/start') return redirect(res, 302, '/same');
      if (req.url === '/same') return redirect(res, 307, `${b.origin}/other`);
      return json(res, 404, {});
    });
    const f = guarded(dev(a.port, b.port));
    const res = await f(`${a.origin}/start`, {
      headers: { authorization: 'Bearer T', cookie: 'c=1', 'x-trace': 't' },
    });
    expect(await res.json()).toEqual({ at: 'b' });
    expect(res.redirected).toBe(true);
    expect(res.url).toBe(`${b.origin}/other`);
    expect(a.requests.map((r) => r.headers.authorization)).toEqual(['Bearer T', 'Bearer T']);
    expect(b.requests[0].headers.authorization).toBeUndefined();
    expect(b.requests[0].headers.cookie).toBeUndefined();
    expect(b.requests[0].headers['x-trace']).toBe('t');
  });

  it('gives up after maxRedirects', async () => {
    const s = await serve((_req, res) => redirect(res, 302, '/again'));
    const f = guarded(dev(s.port), { maxRedirects: 2 });
    await expect(f(`${s.origin}/again`)).rejects.toThrow(/more than 2 redirects/);
    expect(s.requests).toHaveLength(3);
  });

  it('turns POST into GET on 303 (and 302), and replays the body on 307', async () => {
    const s = await serve((req, res) => {
      if (req.url === '/see-other') return redirect(res, 303, '/done');
      if (req.url === '/temporary') return redirect(res, 307, '/done');
      return json(res, 200, { method: req.method, body: req.body });
    });
    const f = guarded(dev(s.port));
    const init = {
      method: 'POST',
      body: 'grant_type=refresh_token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    };
    expect(await (await f(`${s.origin}/see-other`, init)).json()).toEqual({ method: 'GET', body: '' });
    expect(s.requests[1].headers['content-type']).toBeUndefined();
    expect(await (await f(`${s.origin}/temporary`, init)).json()).toEqual({
      method: 'POST',
      body: 'grant_type=refresh_token',
    });
  });

  it("returns the redirect itself with redirect: 'manual' and fails with redirect: 'error'", async () => {
    const s = await serve((_req, res) => redirect(res, 302, 'http://169.254.169.254/'));
    const f = guarded(dev(s.port));
    const res = await f(`${s.origin}/`, { redirect: 'manual' });
    expect(res).toBeInstanceOf(Response);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('http://169.254.169.254/');
    await expect(f(`${s.origin}/`, { redirect: 'error' })).rejects.toThrow(TypeError);
  });

  it('times out', async () => {
    const s = await serve(() => undefined); // never answers
    const f = guarded(dev(s.port), { timeoutMs: 200 });
    const started = Date.now();
    await expect(f(`${s.origin}/slow`)).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('caps the response body', async () => {
    const s = await serve((req, res) => {
      if (req.url === '/declared') return json(res, 200, { pad: 'x'.repeat(4096) });
      res.writeHead(200, { 'content-type': 'text/plain' }); // chunked, no length
      res.write('y'.repeat(800));
      res.end('y'.repeat(800));
    });
    const f = guarded(dev(s.port), { maxResponseBytes: 1024 });
    await expect(f(`${s.origin}/declared`)).rejects.toThrow(/exceeds 1024 bytes/);
    const res = await f(`${s.origin}/chunked`);
    await expect(res.text()).rejects.toThrow(/exceeds 1024 bytes/);
  });
});
