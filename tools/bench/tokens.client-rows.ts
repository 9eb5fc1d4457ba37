// bench:tokens, group 3: the BrokerClient with its local cache (cached acquires, a revocation event).
import { BrokerClient } from '@broker/broker-client';
import { timeSequential } from './stats';
import { Bench, MIN_VALIDITY, N, WARMUP, p, step } from './tokens.shared';

export async function clientRows(b: Bench): Promise<void> {
  const { sys, rows, hot, unlinked } = b;
  // 3. BrokerClient with its local cache
  step('BrokerClient: cached acquires');
  const client = await BrokerClient.connect({
    redisUrl: sys.redisUrl,
    brokerPublicKey:
      sys.env['BUS_SERVICE_PUBLIC_KEYS']
        .split(',')
        .find((e) => e.startsWith('token-broker='))
        ?.slice('token-broker='.length) ?? '',
    eventsPublicKeys: sys.env['EVENTS_PUBLIC_KEYS'],
    prefix: sys.env['BUS_PREFIX'],
    credentials: { getAccessToken: async () => sys.adminToken },
    name: 'bench-client',
  });
  try {
    await client.acquire({ authorizationId: hot.authorizationId, minValiditySeconds: MIN_VALIDITY }); // the one miss
    const hitsBefore = client.stats().cacheHits;
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < 1000) {
      for (let i = 0; i < 1000; i++)
        await client.acquire({ authorizationId: hot.authorizationId, minValiditySeconds: MIN_VALIDITY });
      n += 1000;
    }
    rows['client_cached_rps'] = n / ((performance.now() - t0) / 1000);
    rows['client_cache_hit_share'] = (client.stats().cacheHits - hitsBefore) / n;
    const lat = await timeSequential(N, WARMUP, () =>
      client.acquire({ authorizationId: hot.authorizationId, minValiditySeconds: MIN_VALIDITY }),
    );
    rows['client_cached_p50'] = p(lat, 50);

    // A revocation seen by the client: carol's token cached, then unlinked over REST; how long until
    // the broker's event reached this client (its cache entry dropped), from when the DELETE was sent.
    step('BrokerClient: a revocation event');
    await client.acquire({ authorizationId: unlinked.authorizationId, minValiditySeconds: MIN_VALIDITY });
    const eventsBefore = client.stats().eventsReceived;
    const sent = performance.now();
    let answered = NaN;
    const del = fetch(
      `${sys.gatewayUrl}/api/v2/externalOAuth/authorizedProviders/${unlinked.authorizationId}/`,
      {
        method: 'DELETE',
        headers: { authorization: `Bearer ${unlinked.userToken}` },
      },
    ).then(async (res) => {
      answered = performance.now() - sent;
      await res.body?.cancel();
      return res.status;
    });
    while (client.stats().eventsReceived === eventsBefore && performance.now() - sent < 5_000)
      await new Promise((r) => setImmediate(r));
    rows['client_revocation_seen_ms'] =
      client.stats().eventsReceived > eventsBefore ? performance.now() - sent : NaN;
    rows['client_revocation_delete_status'] = await del;
    rows['client_revocation_delete_ms'] = answered;
    // And the token is no longer served from the cache.
    rows['client_revocation_refused'] = await client
      .acquire({ authorizationId: unlinked.authorizationId, minValiditySeconds: MIN_VALIDITY })
      .then(
        () => 0,
        () => 1,
      );
  } finally {
    await client.close();
  }
}
