import type { DomainSchema } from '@broker/service-runtime';
import { AuthorizationEntity } from './authorizations/authorization.entity';
import { CredentialEntity } from './authorizations/credential.entity';
import { CreateAuthorizations1763901000000 } from './migrations/1763901000000-create-authorizations';
import { TokenPath1763901100000 } from './migrations/1763901100000-token-path';
import { DeviceAuthorizations1763901200000 } from './migrations/1763901200000-device-authorizations';
import { ProviderStateDerived1763901300000 } from './migrations/1763901300000-provider-state-derived';
import { ConsentBrowserBinding1763901400000 } from './migrations/1763901400000-consent-browser-binding';
import { ConsentSetups1763901500000 } from './migrations/1763901500000-consent-setups';
import { RefreshSchedule1763902000000 } from './migrations/1763902000000-refresh-schedule';
import { TokenLedger1763902100000 } from './migrations/1763902100000-token-ledger';
import { ProviderAccounts1763902200000 } from './migrations/1763902200000-provider-accounts';
import { RevocationJobs1763902300000 } from './migrations/1763902300000-revocation-jobs';

/** The tokens domain's tables: schema `tokens`, owned by the token-broker (the worker runs its jobs). */
export const TOKENS_SCHEMA: DomainSchema = {
  schema: 'tokens',
  entities: [AuthorizationEntity, CredentialEntity],
  migrations: [
    CreateAuthorizations1763901000000,
    TokenPath1763901100000,
    DeviceAuthorizations1763901200000,
    ProviderStateDerived1763901300000,
    ConsentBrowserBinding1763901400000,
    ConsentSetups1763901500000,
    RefreshSchedule1763902000000,
    TokenLedger1763902100000,
    ProviderAccounts1763902200000,
    RevocationJobs1763902300000,
  ],
};
