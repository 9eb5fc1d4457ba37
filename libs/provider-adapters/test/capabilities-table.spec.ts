import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROVIDER_TYPES, type ProviderType } from '@broker/contracts';
import {
  PROVIDER_CATALOGUE,
  adapterFor,
  resolveOidcFromDiscovery,
  resolveProvider,
  type AdapterCapabilities,
  type ResolvedProvider,
} from '../src';

const COLUMNS: Record<string, keyof AdapterCapabilities> = {
  PKCE: 'pkce',
  'refresh rotation': 'refreshRotation',
  revocation: 'revocation',
  'device flow': 'deviceFlow',
  'self-hosted': 'selfHosted',
};

/** The README's "Provider capabilities" table: type → column → cell text. */
function readmeTable(): Map<string, Record<string, string>> {
  const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
  const section = readme.split('### Provider capabilities')[1];
  if (!section) throw new Error('README has no "Provider capabilities" section');
  // The first table of the section: its consecutive `|` lines.
  const lines = section.split('\n');
  const start = lines.findIndex((l) => l.startsWith('|'));
  const end = lines.findIndex((l, i) => i > start && !l.startsWith('|'));
  const rows = lines.slice(start, end).map((l) =>
    l
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim()),
  );
  const [header, , ...body] = rows;
  const table = new Map<string, Record<string, string>>();
  for (const row of body)
    table.set(row[0].replace(/`/g, ''), Object.fromEntries(header.slice(1).map((h, i) => [h, row[i + 1]])));
  return table;
}

/**
 * Instances of a type that the table's wording covers: `plain` (cloud, or the bare generic
 * configuration), `selfHosted` (a self-hosted deployment, when the type has one), `full` (the
 * generic types with every optional endpoint / feature).
 */
function instances(type: ProviderType): {
  plain: ResolvedProvider;
  selfHosted?: ResolvedProvider;
  full?: ResolvedProvider;
} {
  if (type === 'oidc') {
    const doc = (extra: object) =>
      resolveOidcFromDiscovery({
        issuer: 'https://idp.example',
        authorizationUrl: 'https://idp.example/authorize',
        tokenUrl: 'https://idp.example/token',
        codeChallengeMethodsSupported: [],
        tokenEndpointAuthMethodsSupported: ['client_secret_basic'],
        ...extra,
      });
    return {
      plain: doc({}),
      full: doc({
        codeChallengeMethodsSupported: ['S256'],
        revocationUrl: 'https://idp.example/revoke',
        deviceAuthorizationUrl: 'https://idp.example/device',
      }),
    };
  }
  if (type === 'oauth2') {
    const endpoints = {
      authorizationUrl: 'https://as.example/authorize',
      tokenUrl: 'https://as.example/token',
    };
    return {
      plain: resolveProvider('oauth2', { endpoints }),
      full: resolveProvider('oauth2', {
        endpoints: {
          ...endpoints,
          revocationUrl: 'https://as.example/revoke',
          deviceAuthorizationUrl: 'https://as.example/device',
        },
      }),
    };
  }
  const plain = resolveProvider(type, type === 'sharepoint' ? { host: 'contoso.sharepoint.com' } : {});
  const selfHosted = PROVIDER_CATALOGUE[type].selfHosted
    ? resolveProvider(type, { host: 'code.example.com' })
    : undefined;
  return { plain, selfHosted };
}

describe('README provider capabilities table', () => {
  const table = readmeTable();

  it('has one row per provider type', () => {
    expect([...table.keys()].sort()).toEqual([...PROVIDER_TYPES].sort());
  });

  it.each([...PROVIDER_TYPES])('%s: every cell matches what the adapter’s capabilities() reports', (type) => {
    const row = table.get(type);
    if (!row) throw new Error(`no README row for ${type}`);
    const { plain, selfHosted, full } = instances(type);
    const adapter = adapterFor(type);
    for (const [column, key] of Object.entries(COLUMNS)) {
      const cell = row[column];
      const got = (p: ResolvedProvider) => adapter.capabilities(p)[key];
      if (/^yes\b/.test(cell)) {
        for (const p of [plain, selfHosted, full])
          if (p) expect({ type, column, value: got(p) }).toEqual({ type, column, value: true });
      } else if (/^(no\b|—)/.test(cell)) {
        for (const p of [plain, selfHosted, full])
          if (p) expect({ type, column, value: got(p) }).toEqual({ type, column, value: false });
      } else if (/^Data Center only$/.test(cell)) {
        expect({ type, column, cloud: got(plain), dataCenter: selfHosted && got(selfHosted) }).toEqual({
          type,
          column,
          cloud: false,
          dataCenter: true,
        });
      } else if (/^if\b/.test(cell)) {
        expect({ type, column, without: got(plain), with: full && got(full) }).toEqual({
          type,
          column,
          without: false,
          with: true,
        });
      } else {
        throw new Error(`unreadable README cell for ${type} / ${column}: ${cell}`);
      }
    }
  });
});
