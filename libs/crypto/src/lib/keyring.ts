const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/** Key-encryption keys from configuration: several may decrypt, one (the active one) encrypts. */
export interface Keyring {
  readonly activeKeyId: string;
  key(keyId: string): Buffer | undefined;
  keyIds(): string[];
}

/** Thrown for a keyring specification that cannot be used; the message says what is wrong. */
export class KeyringError extends Error {}

/**
 * Parses `ENCRYPTION_KEYS` ("id:base64key,id2:base64key", each key 32 bytes) and the active key id
 * (`ENCRYPTION_ACTIVE_KEY_ID`, required when there are several keys).
 */
export function parseKeyring(spec: string, activeKeyId?: string): Keyring {
  const keys = new Map<string, Buffer>();
  for (const entry of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const sep = entry.indexOf(':');
    const id = sep > 0 ? entry.slice(0, sep) : '';
    if (!KEY_ID.test(id))
      throw new KeyringError(
        `each key must be written id:base64key, with an id of letters, digits, _ or - (got '${entry.slice(0, 12)}…')`,
      );
    const key = Buffer.from(entry.slice(sep + 1), 'base64');
    if (key.length !== 32)
      throw new KeyringError(`key '${id}' must be 32 bytes, base64-encoded (openssl rand -base64 32)`);
    if (keys.has(id)) throw new KeyringError(`key id '${id}' appears twice`);
    keys.set(id, key);
  }
  if (keys.size === 0) throw new KeyringError('at least one key is required');
  const active = activeKeyId || (keys.size === 1 ? [...keys.keys()][0] : undefined);
  if (!active) throw new KeyringError('several keys are given: name the active one');
  if (!keys.has(active)) throw new KeyringError(`the active key '${active}' is not in the keyring`);
  return { activeKeyId: active, key: (id) => keys.get(id), keyIds: () => [...keys.keys()] };
}
