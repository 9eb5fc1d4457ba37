import { BrokerSystem } from './broker-system';

/**
 * Wrong secrets from elsewhere never lock the owner out: the bootstrap client id `admin` is well
 * known, so an attacker floods the token endpoint with wrong secrets for it from three addresses
 * (simulated through X-Forwarded-For behind one trusted proxy hop). The attackers back off; the
 * owner, from its own address, keeps getting tokens — during the flood and after it.
 */
describe('rate limits that stop attackers without locking out the owner', () => {
  const system = new BrokerSystem({ label: 'lockout', env: { TRUST_PROXY_HOPS: '1' } });

  beforeAll(() => system.start());
  afterAll(() => system.stop());

  const attempt = (address: string, secret: string) =>
    system
      .tokenRequest(
        { grant_type: 'client_credentials', client_id: 'admin', client_secret: secret },
        { address },
      )
      .then(async (r) => {
        await r.body?.cancel();
        return r.status;
      });

  it('600 wrong secrets for the admin client from three other addresses never make its right secret fail', async () => {
    const attackers = ['203.0.113.7', '198.51.100.23', '192.0.2.99'];
    const statuses: number[] = [];
    const owner: number[] = [];
    const started = Date.now();
    for (let round = 0; round < 30; round++) {
      // 20 wrong attempts per round, spread over the three addresses, sent together.
      statuses.push(
        ...(await Promise.all(
          Array.from({ length: 20 }, (_, i) => attempt(attackers[i % 3], `guess-${round}-${i}`)),
        )),
      );
      owner.push(await attempt('10.1.2.3', system.adminSecret));
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const refused = statuses.filter((s) => s === 429).length;
    process.stdout.write(
      `lockout: ${statuses.length} wrong attempts in ${seconds} s: ${statuses.filter((s) => s === 401).length} × 401, ${refused} × 429; owner ${owner.filter((s) => s === 200).length}/${owner.length} × 200\n`,
    );
    expect(statuses).toHaveLength(600);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    // The attackers were slowed down: after 10 free failures per address, mostly refused unheard.
    expect(refused).toBeGreaterThan(500);
    // The owner was never refused, and still is not.
    expect(owner).toEqual(Array(30).fill(200));
    expect(await attempt('10.1.2.3', system.adminSecret)).toBe(200);
    expect(await attempt('10.9.9.9', system.adminSecret)).toBe(200);
    // An attacking address is refused even with the right secret while it backs off (it learns nothing).
    expect(await attempt(attackers[0], system.adminSecret)).toBe(429);
  });

  it('limits one address’s requests per minute whatever the client, with Retry-After', async () => {
    // TOKEN_RATE_LIMIT_PER_IP defaults to 300/min: an address sending more is refused for the rest of the minute.
    const address = '192.0.2.200';
    let last: Response | undefined;
    for (let i = 0; i < 310; i++) {
      last = await system.tokenRequest(
        { grant_type: 'client_credentials', client_id: `random-${i}`, client_secret: 'x' },
        { address },
      );
      await last.body?.cancel();
    }
    expect(last?.status).toBe(429);
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await attempt('10.1.2.3', system.adminSecret)).toBe(200);
  });
});
