import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { BusException } from '@broker/bus';
import { BusReply, LEAST_PRIVILEGE_BUS_SCHEMAS, MessagePatterns } from '@broker/contracts';
import { AccessTokenVerifier, RevocationStateUnavailableError } from '@broker/auth-kit';
import { ClientsService } from '@broker/identity';
import { ConsumerTokens } from '@broker/tokens';
import { ExchangeError, TokenExchange } from './token-exchange';

/**
 * RFC 8693 token exchange, reached through the token endpoint like `identity.token`: no caller
 * token on the bus request, the client authenticates in the request itself.
 */
@Controller()
export class TokenExchangeBusController {
  private readonly exchanges: TokenExchange;

  constructor(clients: ClientsService, verifier: AccessTokenVerifier, consumers: ConsumerTokens) {
    this.exchanges = new TokenExchange(clients, verifier, consumers);
  }

  @MessagePattern(MessagePatterns.tokens.exchange)
  async exchange(@Payload() raw: unknown): Promise<BusReply<'tokens.exchange'>> {
    const parsed = LEAST_PRIVILEGE_BUS_SCHEMAS['tokens.exchange'].safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return {
        ok: false,
        error: new ExchangeError(
          'invalid_request',
          `${issue.path.join('.') || 'request'}: ${issue.message}`,
        ).toResponse(),
      };
    }
    try {
      return { ok: true, token: await this.exchanges.exchange(parsed.data) };
    } catch (err) {
      if (err instanceof ExchangeError) return { ok: false, error: err.toResponse() };
      // Fail closed: no subject token is accepted on a revocation list older than its bound.
      if (err instanceof RevocationStateUnavailableError) throw new BusException('UNAVAILABLE', err.message);
      throw err;
    }
  }
}
