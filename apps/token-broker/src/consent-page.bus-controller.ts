import { Controller, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { BusException } from '@broker/bus';
import { BusReply, BusRequest, MessagePatterns } from '@broker/contracts';
import { UsersService } from '@broker/identity';
import { ConsentService, PendingConsent } from '@broker/tokens';
import { TokensErrorFilter } from './tokens-error.filter';

/**
 * The broker's consent start page (served by the gateway): no caller token, the state handed to
 * the user's front end is the proof. It shows what the consent connects, then binds the consent to
 * the browser that confirms it.
 */
/** What the start page shows of a pending consent: the provider, and whose account it will be linked to. */
export async function consentPageOf(
  pending: PendingConsent,
  users: UsersService,
): Promise<BusReply<'authorizations.consent-page'>> {
  const user = await users.find(pending.orgId, pending.userId);
  const name = [user?.givenName, user?.familyName].filter(Boolean).join(' ');
  return {
    providerName: pending.provider.name,
    providerType: pending.provider.type,
    userLabel: user?.email ? (name ? `${name} <${user.email}>` : user.email) : name || pending.userId,
    orgId: pending.orgId,
    expiresAt: pending.expiresAt.toISOString(),
    authorizationOrigin: pending.authorizationOrigin,
  };
}

@Controller()
@UseFilters(TokensErrorFilter)
export class ConsentPageBusController {
  constructor(
    private readonly consent: ConsentService,
    private readonly users: UsersService,
  ) {}

  @MessagePattern(MessagePatterns.authorizations.consentPage)
  async page(
    @Payload() req: BusRequest<'authorizations.consent-page'>,
  ): Promise<BusReply<'authorizations.consent-page'>> {
    const state = req.state;
    const pending = state && state.length <= 512 ? await this.consent.describe(state) : null;
    if (!pending)
      throw new BusException('NOT_FOUND', 'This connection is unknown, expired or already started.');
    return consentPageOf(pending, this.users);
  }

  @MessagePattern(MessagePatterns.authorizations.consentBind)
  async bind(
    @Payload() req: BusRequest<'authorizations.consent-bind'>,
  ): Promise<BusReply<'authorizations.consent-bind'>> {
    const { state, bindingHash } = req;
    if (!state || state.length > 512 || !bindingHash)
      throw new BusException('BAD_REQUEST', 'state and bindingHash are required');
    return { redirectUrl: await this.consent.bindBrowser(state, bindingHash) };
  }
}
