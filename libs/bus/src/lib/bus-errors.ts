import { RpcException } from '@nestjs/microservices';
import type { BusErrorCode, BusErrorPayload } from '@broker/contracts';

export { BusError, BusRemoteError, BusTimeoutError, BusUnavailableError } from '@broker/bus-protocol';

/** Thrown by a message handler to answer with a typed domain error. */
export class BusException extends RpcException {
  constructor(code: BusErrorCode, message: string, fields?: BusErrorPayload['fields']) {
    super(fields ? { code, message, fields } : { code, message });
  }
}
