import { Controller, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { BusClientProxy, BusException, BusRemoteError } from '@broker/bus';
import { BusReply, BusRequest, MessagePatterns } from '@broker/contracts';
import { UsersService } from '@broker/identity';
import { ConsentService } from '@broker/tokens';
import { consentPageOf } from './consent-page.bus-controller';
import { TokensErrorFilter } from './tokens-error.filter';

/**
 * The hosted setup page (seed 002): the link is opened at the registry (which checks it and marks
 * the setup opened), then a consent is started for the setup's user exactly as the broker's start
 * page starts one, with the setup's scopes. The page then binds it to the browser like any other.
 */
@Controller()
@UseFilters(TokensErrorFilter)
export class SetupConsentBusController {
  constructor(
    private readonly bus: BusClientProxy,
    private readonly consent: ConsentService,
    private readonly users: UsersService,
  ) {}

  @MessagePattern(MessagePatterns.authorizations.setupConsent)
  async start(
    @Payload() req: BusRequest<'authorizations.setup-consent'>,
  ): Promise<BusReply<'authorizations.setup-consent'>> {
    const linkToken = req.linkToken;
    if (!linkToken || linkToken.length > 64)
      throw new BusException('NOT_FOUND', 'This setup link is unknown.');
    const opened = await this.bus.request('oauth-setups.open', { linkToken }).catch((err: unknown) => {
      // The registry's word on the link (unknown, used, expired) goes back to the page as it is.
      if (err instanceof BusRemoteError && (err.code === 'NOT_FOUND' || err.code === 'GONE'))
        throw new BusException(err.code, err.message, err.fields);
      throw err;
    });
    const user = await this.users.find(opened.orgId, opened.userId);
    if (!user)
      throw new BusException('GONE', 'The account this link was made for does not exist.', [
        { name: 'status', message: 'unknown_user' },
      ]);
    const { state } = await this.consent.authorize(
      opened.orgId,
      opened.userId,
      opened.providerId,
      undefined,
      undefined,
      { setupId: opened.setupId, scopes: opened.requestScopes },
    );
    const pending = await this.consent.describe(state);
    if (!pending)
      throw new BusException('GONE', 'The provider of this setup is not available.', [
        { name: 'status', message: 'unavailable' },
      ]);
    return {
      flow: state,
      consent: await consentPageOf(pending, this.users),
      setup: {
        setupId: opened.setupId,
        name: opened.name,
        description: opened.description,
        redirectUrl: opened.redirectUrl,
        scopes: opened.scopes,
      },
    };
  }
}
