import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SCOPES } from '@broker/contracts';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { ClientsService } from '../clients.service';
import { SigningKeysService } from '../signing-keys.service';
import { TokenGrantsService } from '../token-grants/token-grants.service';

/** Creates the bootstrap org and, when its secret is configured, the admin client, at start-up. */
@Injectable()
export class IdentityBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger('IdentityBootstrap');
  constructor(
    private readonly clients: ClientsService,
    private readonly keys: SigningKeysService,
    private readonly grants: TokenGrantsService,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { orgId, clientId, clientSecret } = this.config.identity.bootstrap;
    await this.clients.ensureOrg(orgId, orgId);
    if (clientSecret) {
      await this.clients.ensureClient(
        { orgId, name: 'bootstrap admin', grantTypes: ['client_credentials'], scopes: [...SCOPES] },
        clientId,
        clientSecret,
      );
      // The bootstrap admin keeps being served every token of its org (unless an operator narrowed it).
      if (await this.grants.ensureFullGrant(orgId, clientId))
        this.logger.log(`bootstrap client '${clientId}' granted every provider token of org '${orgId}'`);
      this.logger.log(`bootstrap client '${clientId}' of org '${orgId}' is ready`);
    }
    const moved = await this.keys.rewrapAll();
    if (moved)
      this.logger.log(
        `${moved} signing key(s) re-wrapped under encryption key '${this.config.secrets?.keyring.activeKeyId}'`,
      );
    await this.keys.signingKey();
  }
}
