import { BaseRpcContext } from '@nestjs/microservices';

export interface BusRequestMeta {
  pattern: string;
  requestId: string;
  deadline: number;
  auth?: string;
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
  /** The caller's bearer token, as sent (to be verified by the handler's guard). */
  getAuth(): string | undefined {
    return this.args[0].auth;
  }
}
