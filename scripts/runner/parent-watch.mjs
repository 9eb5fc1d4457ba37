// npm forwards SIGINT and SIGTERM to the script it runs, but when npm itself is killed (SIGKILL, or
// a supervisor that signals only npm's pid and then kills it) nothing reaches us: we notice that
// our parent changed (we were re-parented) and stop everything as if signalled.
const POLL_MS = 500;

/** Calls onGone(previousParentPid) once when this process's parent exits; returns a stop function. */
export function watchParent(onGone) {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onGone(parent);
    }
  }, POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
