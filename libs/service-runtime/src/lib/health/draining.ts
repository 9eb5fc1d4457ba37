/**
 * Whether this process is shutting down (SIGTERM received). Process-wide on purpose: the signal is
 * the process's, and readiness must report it from the moment it arrives, before Nest's shutdown
 * hooks run, so a load balancer takes the replica out while it still serves what was sent to it.
 */
let draining = false;

/** Marks the process as draining: /health/ready answers 503 with `draining` failing from now on. */
export function startDraining(): void {
  draining = true;
}

export function isDraining(): boolean {
  return draining;
}

/** For tests: back to serving. */
export function resetDraining(): void {
  draining = false;
}
