// What this process started (servers, temp directories), so that it can all be stopped: in order
// by stopAllServices(), or at once by stopAllServicesSync() from the process 'exit' hook.
import {
  commandsInFlight,
  killTree,
  refuseNewCommands,
  refusingNewCommands,
  safeKill,
  waitForExit,
} from './processes.mjs';

const registry = []; // started resources, stopped in reverse order: { name, stop, stopSync }
const defaultLog = (msg) => process.stderr.write(`[services] ${msg}\n`);

/** Stops every server this process started and ends commands still running; nothing new starts afterwards. */
export async function stopAllServices() {
  refuseNewCommands();
  // Commands still running (e.g. initdb via runuser, which forwards SIGTERM) must finish before
  // their directories are stopped/removed.
  await Promise.all(
    commandsInFlight().map(async (child) => {
      if (!child.forStop) safeKill(child.pid, 'SIGTERM'); // let a stop command in progress finish
      if (!(await waitForExit(child.pid, child.forStop ? 70_000 : 10_000))) killTree(child.pid);
      await child.closed;
    }),
  );
  for (const entry of [...registry].reverse()) {
    try {
      await entry.stop();
    } catch (err) {
      defaultLog(`could not stop ${entry.name}: ${err.message}`);
    }
  }
}

/** Synchronous last resort for 'exit' and signal handlers: kills everything, no waiting for grace. */
export function stopAllServicesSync() {
  refuseNewCommands();
  for (const child of commandsInFlight()) killTree(child.pid);
  for (const entry of [...registry].reverse()) {
    try {
      entry.stopSync();
    } catch {
      /* best effort */
    }
  }
}

process.on('exit', stopAllServicesSync);

/**
 * Adds a started resource to the registry; stop() is idempotent and concurrent calls share one
 * stop. The entry stays registered until stopped, so the exit hook still covers a stop in progress.
 */
export function register(name, stopAsync, stopSync) {
  if (refusingNewCommands()) throw new Error(`shutting down: not starting ${name}`);
  let stopping = null;
  let done = false;
  const entry = {
    name,
    stop: () =>
      (stopping ??= (async () => {
        try {
          if (!done) await stopAsync();
        } finally {
          done = true;
          unregister(entry);
        }
      })()),
    stopSync: () => {
      if (done) return;
      done = true;
      unregister(entry);
      stopSync();
    },
  };
  registry.push(entry);
  return entry;
}

function unregister(entry) {
  const i = registry.indexOf(entry);
  if (i >= 0) registry.splice(i, 1);
}
