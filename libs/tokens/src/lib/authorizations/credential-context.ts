import { EncryptionContext } from '@broker/crypto';

/** The token sets table: one row per authorization, both tokens envelope-encrypted. */
export const CREDENTIALS = 'tokens.credentials';

/** The encryption context of a token: bound to its credential row, column and org (a moved ciphertext does not decrypt). */
export function credentialContext(orgId: string, rowId: string, column: string): EncryptionContext {
  return { table: CREDENTIALS, column, orgId, rowId };
}
