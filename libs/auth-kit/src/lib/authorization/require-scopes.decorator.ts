import { SetMetadata } from '@nestjs/common';
import type { Scope } from '@broker/contracts';

export const REQUIRED_SCOPES = 'broker:required-scopes';

/** The scopes a route or bus handler needs (all of them); checked after the token is verified. */
export const RequireScopes = (...scopes: Scope[]) => SetMetadata(REQUIRED_SCOPES, scopes);
