import { DataSource } from 'typeorm';
import { ClientMetadataDocumentSettings, SCOPES } from '@broker/contracts';
import { OrgEntity } from '../entities/org.entity';
import { DELEGATE_SCOPE } from '@broker/auth-kit';

/** The settings cannot be applied as given (a message for the admin, naming the value). */
export class ClientMetadataSettingsError extends Error {}

/** The org that accepts a client URL, with the most it may get. */
export interface AcceptingOrg {
  orgId: string;
  maxScopes: string[];
}

const HOST = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * Which orgs accept clients identified by URL (client ID metadata documents), which URLs, and with
 * which scopes at most. Off for every org until its admin turns it on (admin API, admin CLI).
 */
export class ClientMetadataSettings {
  constructor(private readonly dataSource: DataSource) {}

  /** The org's settings, or null when there is no such org. */
  async get(orgId: string): Promise<ClientMetadataDocumentSettings | null> {
    const org = await this.dataSource.getRepository(OrgEntity).findOneBy({ id: orgId });
    return org
      ? {
          enabled: org.clientMetadataDocuments,
          allowedClients: org.clientMetadataAllowed,
          maxScopes: org.clientMetadataMaxScopes,
        }
      : null;
  }

  /** Checks and stores the org's settings; null when there is no such org. Throws ClientMetadataSettingsError for a bad value. */
  async set(
    orgId: string,
    settings: ClientMetadataDocumentSettings,
  ): Promise<ClientMetadataDocumentSettings | null> {
    const checked = checkSettings(settings);
    const [, count] = (await this.dataSource.query(
      `UPDATE identity.orgs SET client_metadata_documents = $2, client_metadata_allowed = $3, client_metadata_max_scopes = $4 WHERE id = $1`,
      [orgId, checked.enabled, checked.allowedClients, checked.maxScopes],
    )) as [unknown, number];
    return count > 0 ? checked : null;
  }

  /** Whether any enabled org accepts clients identified by URL (the server's metadata says so). */
  async anyEnabled(): Promise<boolean> {
    const rows = (await this.dataSource.query(
      `SELECT 1 FROM identity.orgs WHERE client_metadata_documents AND NOT disabled LIMIT 1`,
    )) as unknown[];
    return rows.length > 0;
  }

  /**
   * The org a client URL belongs to: among the enabled orgs that accept it, the one whose entry is
   * the most specific (a URL prefix beats a host name, which beats an org accepting any URL; a
   * longer one beats a shorter one). Null when none accepts it; 'ambiguous' when two orgs accept it
   * equally specifically (their admins must narrow their lists): a client is never guessed into an org.
   */
  async acceptingOrg(url: URL): Promise<AcceptingOrg | null | 'ambiguous'> {
    const orgs = (await this.dataSource.query(
      `SELECT id, client_metadata_allowed AS allowed, client_metadata_max_scopes AS scopes FROM identity.orgs WHERE client_metadata_documents AND NOT disabled`,
    )) as { id: string; allowed: string[]; scopes: string[] }[];
    let best: { org: AcceptingOrg; rank: number } | null = null;
    let tie = false;
    for (const org of orgs) {
      const rank = matchRank(url, org.allowed);
      if (rank < 0) continue;
      if (!best || rank > best.rank) {
        best = { org: { orgId: org.id, maxScopes: org.scopes }, rank };
        tie = false;
      } else if (rank === best.rank) tie = true;
    }
    if (!best) return null;
    return tie ? 'ambiguous' : best.org;
  }
}

/** How specifically `allowed` names `url`: -1 not at all, 0 any URL, else higher for a more specific entry. */
function matchRank(url: URL, allowed: string[]): number {
  if (allowed.length === 0) return 0;
  let rank = -1;
  for (const entry of allowed) {
    if (entry.includes('://')) {
      if (url.href.startsWith(entry)) rank = Math.max(rank, 10_000 + entry.length);
    } else if (url.hostname === entry) rank = Math.max(rank, entry.length);
  }
  return rank;
}

function checkSettings(settings: ClientMetadataDocumentSettings): ClientMetadataDocumentSettings {
  const allowedClients = [...new Set(settings.allowedClients.map((e) => e.trim()).filter(Boolean))].map(
    checkEntry,
  );
  const maxScopes = [...new Set(settings.maxScopes.map((s) => s.trim()).filter(Boolean))];
  const unknown = maxScopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (unknown.length) throw new ClientMetadataSettingsError(`unknown scope: ${unknown.join(', ')}`);
  // Acting as any user of the org is never for a client that anybody can describe.
  if (maxScopes.includes(DELEGATE_SCOPE))
    throw new ClientMetadataSettingsError(`${DELEGATE_SCOPE} cannot be given to clients identified by URL`);
  if (settings.enabled && maxScopes.length === 0)
    throw new ClientMetadataSettingsError(
      'name the scopes such clients may get at most (maxScopes) when enabling',
    );
  return { enabled: settings.enabled, allowedClients, maxScopes };
}

/** A host name (compared with the URL's host exactly) or a URL prefix ending in `/` (so `https://a.example` cannot match `https://a.example.evil`). */
function checkEntry(entry: string): string {
  if (!entry.includes('://')) {
    const host = entry.toLowerCase();
    if (!HOST.test(host))
      throw new ClientMetadataSettingsError(
        `'${entry.slice(0, 100)}' is neither a host name nor a URL prefix`,
      );
    return host;
  }
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    throw new ClientMetadataSettingsError(`'${entry.slice(0, 100)}' is not a valid URL prefix`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new ClientMetadataSettingsError(`'${entry.slice(0, 100)}': a URL prefix is https`);
  if (url.search || url.hash || url.username || url.password)
    throw new ClientMetadataSettingsError(
      `'${entry.slice(0, 100)}': a URL prefix has no query, fragment or credentials`,
    );
  if (!url.pathname.endsWith('/'))
    throw new ClientMetadataSettingsError(`'${entry.slice(0, 100)}': a URL prefix ends with /`);
  return url.href;
}
