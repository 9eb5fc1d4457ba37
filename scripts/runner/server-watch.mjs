// Watches a local server (PostgreSQL, Redis) that `npm start` provisioned: when its process is gone
// it is started again on the same port and data, with backoff, and a log line says so. The
// services keep their connection settings and reconnect by themselves.
import { restartDelayMs } from './supervised-process.mjs';

const POLL_MS = 1_000;
const STABLE_AFTER_MS = 60_000;

/**
 * @param {string} name          e.g. 'redis-server'
 * @param {() => number|null} pid  the server's live pid, or null
 * @param {() => Promise<{ pid: () => number|null }>} restart  starts it again (same port and data)
 * @returns {{ stop(): void, readonly pid: number | null }}
 */
export function watchServer(name, pid, restart, log) {
  let lastPid = pid();
  let restarts = 0;
  let upSince = Date.now();
  let stopped = false;
  let timer = null;

  const tick = async () => {
    timer = null;
    if (stopped) return;
    if (pid() === null) {
      if (Date.now() - upSince >= STABLE_AFTER_MS) restarts = 0;
      restarts++;
      const delay = restartDelayMs(restarts);
      log(
        `${name} (pid ${lastPid}) is gone: restarting it in ${delay / 1000} s (restart ${restarts} in a row)`,
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (stopped) return;
      try {
        const server = await restart();
        lastPid = server.pid();
        upSince = Date.now();
        log(`${name} restarted (pid ${lastPid}); the services reconnect by themselves`);
      } catch (err) {
        if (stopped) return;
        log(`${name} could not be restarted: ${err.message.split('\n')[0]}`);
      }
    } else {
      lastPid = pid();
    }
    if (!stopped) timer = setTimeout(tick, POLL_MS);
  };
  timer = setTimeout(tick, POLL_MS);
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
    get pid() {
      return lastPid;
    },
  };
}
