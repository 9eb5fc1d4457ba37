import { BaseRpcContext } from '@nestjs/microservices';
import type { Principal } from '@broker/contracts';

export interface BusRequestMeta {
  pattern: string;
  requestId: string;
  deadline: number;
  auth?: string;
  /** The caller's W3C traceparent (from the sealed body; a hint, possibly malformed). */
  traceparent?: string;
  /** When the server was built with `stampPhases` (benchmarks): its phases' times, see `PhaseStamps`. */
  stamps?: PhaseStamps;
}

/**
 * Monotonic times (ms, `process.hrtime`, comparable across processes of one machine) of a
 * request's phases in the server: popped off the list, opened, marked (the replay marker's `SET NX`
 * answered). Only recorded with `BusServerOptions.stampPhases`, for the latency breakdown in
 * `npm run bench:bus`.
 */
export interface PhaseStamps {
  popped: number;
  opened: number;
  marked: number;
}

/** Execution context of a bus handler (`@Ctx() ctx: BusContext`): who asks, and until when. */
export class BusContext extends BaseRpcContext<[BusRequestMeta]> {
  constructor(meta: BusRequestMeta) {
    super([meta]);
  }
  getPattern(): string {
    return this.args[0].pattern;
  }
  getRequestId(): string {
    return this.args[0].requestId;
  }
  /** Epoch ms after which the caller no longer waits. */
  getDeadline(): number {
    return this.args[0].deadline;
  }
  /** The caller's W3C traceparent, as sent (tracing parses it leniently). */
  getTraceparent(): string | undefined {
    return this.args[0].traceparent;
  }
  /** The server's phase stamps of this request (only with `stampPhases`). */
  getStamps(): PhaseStamps | undefined {
    return this.args[0].stamps;
  }
  /** The caller's bearer token, as sent (to be verified by the handler's guard). */
  getAuth(): string | undefined {
    return this.args[0].auth;
  }

  private principal?: Principal;

  /** Set by the authentication guard once the caller's token is verified. */
  setPrincipal(principal: Principal): void {
    this.principal = principal;
  }

  /** The verified caller; throws if no authentication guard ran (a wiring mistake, not a client error). */
  getPrincipal(): Principal {
    if (!this.principal)
      throw new Error(`no verified principal on bus request '${this.getPattern()}': is the handler guarded?`);
    return this.principal;
  }
}
