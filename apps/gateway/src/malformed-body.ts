import { BadRequestException } from '@nestjs/common';

/** What went wrong before any handler ran, as far as the error surfaces care. */
export type RequestShapeProblem =
  | { kind: 'malformed-json' }
  | { kind: 'unreadable-body'; status: number }
  | undefined;

/**
 * Recognizes errors raised while reading the request, before routing. Nest maps body-parser's
 * SyntaxError (and Express' URIError for a badly encoded path) to a plain BadRequestException
 * whose message quotes the body: each surface answers these in its own shape and never echoes
 * the message. body-parser's other errors (too large, bad charset...) keep their `status`/`type`.
 */
export function requestShapeProblem(error: unknown): RequestShapeProblem {
  if (error instanceof BadRequestException && error.constructor === BadRequestException) {
    const message = error.message;
    if (!/^Failed to decode param/.test(message)) return { kind: 'malformed-json' };
  }
  const parser = error as { status?: unknown; type?: unknown } | null;
  if (
    typeof parser?.type === 'string' &&
    typeof parser.status === 'number' &&
    parser.status >= 400 &&
    parser.status < 500
  ) {
    return parser.type === 'entity.parse.failed'
      ? { kind: 'malformed-json' }
      : { kind: 'unreadable-body', status: parser.status };
  }
  return undefined;
}
