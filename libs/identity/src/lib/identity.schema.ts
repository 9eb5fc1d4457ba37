import type { DomainSchema } from '@broker/service-runtime';
import { OAuthClientEntity } from './entities/oauth-client.entity';
import { OrgEntity } from './entities/org.entity';
import { SigningKeyEntity } from './entities/signing-key.entity';
import { UserEntity } from './entities/user.entity';
import { CreateIdentity1763900100000 } from './migrations/1763900100000-create-identity';
import { CreateUsers1763900200000 } from './migrations/1763900200000-create-users';
import { CreateGrants1763900300000 } from './migrations/1763900300000-create-grants';
import { AddCodeNonce1763900400000 } from './migrations/1763900400000-add-code-nonce';
import { RevocationAndSignInPolicy1763900600000 } from './migrations/1763900600000-revocation-and-sign-in-policy';
import { AddOrgDisabled1763900700000 } from './migrations/1763900700000-add-org-disabled';
import { TokenGrants1763900800000 } from './migrations/1763900800000-token-grants';
import { ResourceIndicators1763900900000 } from './migrations/1763900900000-resource-indicators';
import { ClientMetadataDocuments1764000000000 } from './migrations/1764000000000-client-metadata-documents';

/** The identity domain's tables: schema `identity`, owned by the token-broker. */
export const IDENTITY_SCHEMA: DomainSchema = {
  schema: 'identity',
  entities: [OrgEntity, OAuthClientEntity, SigningKeyEntity, UserEntity],
  migrations: [
    CreateIdentity1763900100000,
    CreateUsers1763900200000,
    CreateGrants1763900300000,
    AddCodeNonce1763900400000,
    RevocationAndSignInPolicy1763900600000,
    AddOrgDisabled1763900700000,
    TokenGrants1763900800000,
    ResourceIndicators1763900900000,
    ClientMetadataDocuments1764000000000,
  ],
};
