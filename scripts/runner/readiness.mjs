// Readiness of the services: their /health/ready endpoints.
import http from 'node:http';

const READY_PATH = '/health/ready';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The HTTP status of a GET (0 when nothing answers within 2 s). */
export function httpStatus(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

/**
 * Polls each app's readiness endpoint until it answers 200; resolves null when all do, else a
 * sentence saying which did not (exited, or not ready in time).
 * @param {Record<string, number>} ports  app -> port
 * @param {(app: string) => boolean} running
 */
export async function waitUntilReady(apps, ports, running, timeoutMs, log, isStopping) {
  const deadline = Date.now() + timeoutMs;
  const results = await Promise.all(
    apps.map(async (app) => {
      const url = `http://127.0.0.1:${ports[app]}${READY_PATH}`;
      while (Date.now() < deadline && !isStopping()) {
        if (!running(app)) return `${app} exited before it was ready`;
        if ((await httpStatus(url)) === 200) {
          log(`${app} ready on port ${ports[app]}`);
          return null;
        }
        await sleep(250);
      }
      return isStopping()
        ? null
        : `${app} was not ready after ${timeoutMs / 1000} s (GET ${url} never answered 200)`;
    }),
  );
  const failures = results.filter(Boolean);
  return failures.length ? failures.join('; ') : null;
}
