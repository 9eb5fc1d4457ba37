import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EgressDeniedError, sharedEgress, type EgressPolicy } from '../src';

describe('sharedEgress: one pool per process, a view per caller', () => {
  let server: Server;
  let origin: string;
  let policy: EgressPolicy;
  const connections: number[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const size = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('size') ?? '2');
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': size }).end('x'.repeat(size));
    });
    server.keepAliveTimeout = 30_000;
    server.on('connection', () => connections.push(Date.now()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    origin = `http://127.0.0.1:${port}`;
    policy = { allowLoopback: true, allowedPorts: [port] };
  });

  afterAll(async () => {
    await sharedEgress(policy).close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('gives every caller of a policy the same pool, and another policy object its own', () => {
    expect(sharedEgress(policy)).toBe(sharedEgress(policy));
    expect(sharedEgress({ ...policy })).not.toBe(sharedEgress(policy));
  });

  it('shares connections between views with different limits; a view’s close() leaves the pool open', async () => {
    const small = sharedEgress(policy).fetch({ maxResponseBytes: 10 });
    const large = sharedEgress(policy).fetch({ maxResponseBytes: 1_000 });
    connections.length = 0;
    expect(await (await large(`${origin}/?size=100`)).text()).toHaveLength(100);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the socket goes back to the pool
    expect(await (await small(`${origin}/?size=5`)).text()).toBe('xxxxx');
    // Both views' calls went over one kept-alive socket of the one pool.
    expect(connections).toHaveLength(1);
    // Each view keeps its own limits: 100 bytes are too many for the small one only.
    await expect(small(`${origin}/?size=100`)).rejects.toThrow(/response body exceeds 10 bytes/);
    await small.close();
    expect(await (await large(`${origin}/?size=7`)).text()).toBe('xxxxxxx');
  });

  it('still refuses what the policy refuses, through every view', async () => {
    const view = sharedEgress(policy).fetch();
    await expect(view('http://10.0.0.1/')).rejects.toBeInstanceOf(EgressDeniedError);
    await expect(view('http://127.0.0.1:1/')).rejects.toThrow(/port 1 is not allowed/);
  });
});
