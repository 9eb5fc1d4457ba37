import { EnvelopeCipher, KeyedHasher } from '@broker/crypto';
import { ServiceConfig, domainDataSourceToken } from '@broker/service-runtime';
import { TOKENS_SCHEMA } from '../tokens.schema';

/** What the domain's provider factories build from: its data source, and the secrets of the service config. */
export const TOKENS_DS = domainDataSourceToken(TOKENS_SCHEMA);

/** The envelope cipher over the service's keyring (stops naming the variables when they are unset). */
export function cipherOf(config: ServiceConfig): EnvelopeCipher {
  if (!config.secrets) throw new Error(`${config.service} needs ENCRYPTION_KEYS and SECRET_PEPPER`);
  return new EnvelopeCipher(config.secrets.keyring);
}

/** The keyed hasher over the service's pepper (stops naming the variables when they are unset). */
export function hasherOf(config: ServiceConfig): KeyedHasher {
  if (!config.secrets) throw new Error(`${config.service} needs ENCRYPTION_KEYS and SECRET_PEPPER`);
  return new KeyedHasher(config.secrets.pepper);
}
