// In-memory storage for the demo identity provider (an oidc-provider adapter). Unlike the library's
// quick-start adapter it never evicts live entries (that one is an LRU of 1000 entries, so a long
// test run could lose a grant mid-flow), it drops expired entries on a timer, and it can list the
// stored grants (for the test hook that revokes them all). Everything is lost on restart.

const GRANT_BOUND = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode']);
const epochSeconds = () => Math.floor(Date.now() / 1000);

export function createMemoryStore({ sweepEveryMs = 60_000 } = {}) {
  /** `${model}:${id}` → { model, id, payload, expiresAt (ms, Infinity when no expiry) } */
  const entries = new Map();
  /** grantId → keys of the tokens and codes issued under it */
  const byGrant = new Map();
  /** session uid → session id */
  const sessionsByUid = new Map();
  /** device user code → device code id */
  const deviceCodesByUserCode = new Map();

  function unindex(entry, key) {
    const { model, id, payload } = entry;
    if (GRANT_BOUND.has(model) && payload.grantId) {
      const keys = byGrant.get(payload.grantId);
      keys?.delete(key);
      if (keys?.size === 0) byGrant.delete(payload.grantId);
    }
    if (model === 'Session' && payload.uid && sessionsByUid.get(payload.uid) === id) sessionsByUid.delete(payload.uid);
    if (payload.userCode && deviceCodesByUserCode.get(payload.userCode) === id) deviceCodesByUserCode.delete(payload.userCode);
  }

  function remove(key) {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    unindex(entry, key);
  }

  function live(key) {
    const entry = entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      remove(key);
      return undefined;
    }
    return entry;
  }

  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const [key, entry] of entries) if (entry.expiresAt <= now) remove(key);
  }, sweepEveryMs);
  sweeper.unref();

  class MemoryAdapter {
    constructor(model) {
      this.model = model;
    }

    key(id) {
      return `${this.model}:${id}`;
    }

    async upsert(id, payload, expiresIn) {
      const key = this.key(id);
      remove(key);
      const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
      const entry = { model: this.model, id, payload: { ...payload }, expiresAt };
      entries.set(key, entry);
      if (GRANT_BOUND.has(this.model) && payload.grantId) {
        if (!byGrant.has(payload.grantId)) byGrant.set(payload.grantId, new Set());
        byGrant.get(payload.grantId).add(key);
      }
      if (this.model === 'Session' && payload.uid) sessionsByUid.set(payload.uid, id);
      if (payload.userCode) deviceCodesByUserCode.set(payload.userCode, id);
    }

    async find(id) {
      if (typeof id !== 'string') return undefined;
      return live(this.key(id))?.payload;
    }

    async findByUid(uid) {
      const id = sessionsByUid.get(uid);
      return id === undefined ? undefined : this.find(id);
    }

    async findByUserCode(userCode) {
      const id = deviceCodesByUserCode.get(userCode);
      return id === undefined ? undefined : this.find(id);
    }

    async consume(id) {
      const entry = live(this.key(id));
      if (entry) entry.payload.consumed = epochSeconds();
    }

    async destroy(id) {
      remove(this.key(id));
    }

    async revokeByGrantId(grantId) {
      for (const key of [...(byGrant.get(grantId) ?? [])]) remove(key);
      byGrant.delete(grantId);
    }
  }

  return {
    Adapter: MemoryAdapter,
    /** Ids of the grants currently stored (not expired). */
    grantIds() {
      const ids = [];
      for (const [key, entry] of entries) if (entry.model === 'Grant' && live(key)) ids.push(entry.id);
      return ids;
    },
  };
}
