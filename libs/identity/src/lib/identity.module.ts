import { Module } from '@nestjs/common';
import { AccessTokenVerifier, BusAuthGuard, RevocationSync } from '@broker/auth-kit';
import { AccessTokenIssuer } from './access-tokens';
import { AuthorizationEndpoint } from './authorization-endpoint';
import { ClientMetadataSettings } from './client-metadata/client-metadata-settings';
import { ClientsService } from './clients.service';
import { GrantsService } from './grants.service';
import { DIRECTORY_PROVIDERS } from './module/directory.providers';
import { IdentityBootstrap } from './module/identity-bootstrap';
import { SERVER_PROVIDERS } from './module/server.providers';
import { VERIFICATION_PROVIDERS } from './module/verification.providers';
import { OrgsService } from './orgs.service';
import { PrincipalTokens } from './principal-tokens';
import { ResourceIndicators } from './resource-indicators';
import { RevocationsService } from './revocation/revocations.service';
import { SignInPolicy } from './sign-in-policy';
import { SigningKeysService } from './signing-keys.service';
import { TokenEndpoint } from './token-endpoint';
import { TokenGrantsService } from './token-grants/token-grants.service';
import { TokenStatusEndpoints } from './token-status';
import { UsersService } from './users.service';

/** The broker's own OAuth server: clients, signing keys, the token endpoint (needs the identity schema). */
@Module({
  providers: [...DIRECTORY_PROVIDERS, ...SERVER_PROVIDERS, ...VERIFICATION_PROVIDERS, IdentityBootstrap],
  exports: [
    OrgsService,
    ClientsService,
    SigningKeysService,
    AccessTokenIssuer,
    TokenEndpoint,
    AuthorizationEndpoint,
    GrantsService,
    UsersService,
    PrincipalTokens,
    AccessTokenVerifier,
    BusAuthGuard,
    RevocationsService,
    RevocationSync,
    SignInPolicy,
    TokenStatusEndpoints,
    TokenGrantsService,
    ResourceIndicators,
    ClientMetadataSettings,
  ],
})
export class IdentityDomainModule {}
