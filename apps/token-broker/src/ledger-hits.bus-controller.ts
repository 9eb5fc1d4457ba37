import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { BusRequest, MessagePatterns } from '@broker/contracts';
import { TokenLedger } from '@broker/tokens';

/**
 * `tokens.ledger.hits`: the gateway's cache hits, fire-and-forget. No caller token: the proof is
 * each hit's ledger ticket, a MAC over the serve's facts that only a broker replica can make and
 * that only ever travelled inside a sealed reply to the gateway. A hit is recorded with the
 * ticket's facts, never the sender's; a made-up, altered or expired ticket writes nothing. The bus
 * itself refuses a request id seen before (a byte-for-byte replay), and checked the payload's
 * shape and bounds (`ledgerHitsSchema`) before this runs.
 */
@Controller()
export class LedgerHitsBusController {
  private readonly logger = new Logger('LedgerHits');

  constructor(private readonly ledger: TokenLedger) {}

  @EventPattern(MessagePatterns.tokens.ledgerHits)
  hits(@Payload() req: BusRequest<'tokens.ledger.hits'>): void {
    const { refused } = this.ledger.recordHits(req.hits);
    const reasons = Object.entries(refused);
    // Counts and reasons only: a ticket is the gateway's to hold, not the log's.
    if (reasons.length)
      this.logger.warn(
        `ledger hits refused: ${reasons.map(([reason, n]) => `${n} ${reason}`).join(', ')} (of ${req.hits.length})`,
      );
  }
}
