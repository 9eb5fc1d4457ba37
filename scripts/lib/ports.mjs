// Free TCP ports on the loopback interface.
import net from 'node:net';

/** Returns a TCP port that is free on 127.0.0.1 (and on the wildcard address), `preferred` if it is. */
export async function freePort(preferred) {
  if (preferred && (await portIsFree(preferred))) return preferred;
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await ephemeralPort();
    if (await canListen(port)) return port;
  }
  throw new Error('could not find a free TCP port');
}

/** Whether nothing listens on `port` (127.0.0.1 or the wildcard address). */
export async function portIsFree(port) {
  return (await canListen(port, '127.0.0.1')) && (await canListen(port));
}

function canListen(port, host) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function ephemeralPort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}
