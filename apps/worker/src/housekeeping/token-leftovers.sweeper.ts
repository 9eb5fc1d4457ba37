import { Injectable, Logger } from '@nestjs/common';
import { ConsentService, TokenPath } from '@broker/tokens';
import type { Sweeper } from './sweeper';

/** Refresh candidates left by a crash are adopted or discarded (the token path decides which). */
@Injectable()
export class RefreshCandidatesSweeper implements Sweeper {
  private readonly logger = new Logger('RefreshCandidatesSweeper');

  constructor(private readonly tokens: TokenPath) {}

  async sweep(): Promise<void> {
    const adopted = await this.tokens.resolveAllCandidates();
    if (adopted) this.logger.log(`${adopted} refresh candidate(s) adopted`);
  }
}

/** Consent states (a started authorization's state, PKCE verifier, nonce) past their lifetime are removed. */
@Injectable()
export class ConsentStatesSweeper implements Sweeper {
  constructor(private readonly consent: ConsentService) {}

  async sweep(): Promise<void> {
    await this.consent.purgeExpired();
  }
}
