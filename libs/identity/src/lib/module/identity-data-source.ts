import { ServiceConfig, domainDataSourceToken } from '@broker/service-runtime';
import { IDENTITY_SCHEMA } from '../identity.schema';

/** The identity domain's DataSource (its own schema), as the providers of the module inject it. */
export const IDENTITY_DS = domainDataSourceToken(IDENTITY_SCHEMA);

export function requireSecrets(config: ServiceConfig): NonNullable<ServiceConfig['secrets']> {
  if (!config.secrets) throw new Error(`${config.service} needs ENCRYPTION_KEYS and SECRET_PEPPER`);
  return config.secrets;
}
