// In-memory storage for the demo identity provider (an oidc-provider adapter). Unlike the library's
// quick-start adapter it never evicts live entries (that one is an LRU of 1000 entries, so a long
// test run could lose a grant mid-flow), it drops expired entries on a timer, and it can list the
// stored grants (for the test hook that revokes them all). Everything is lost on restart.

const GRANT_BOUND = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode']);
const epochSeconds = () => Math.floor(Date.now() / 1000);

export function createMemoryStore({ sweepEveryMs = 60_000, onChange = () => {} } = {}) {
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

  function index(key, entry) {
    entries.set(key, entry);
    const { model, id, payload } = entry;
    if (GRANT_BOUND.has(model) && payload.grantId) {
      if (!byGrant.has(payload.grantId)) byGrant.set(payload.grantId, new Set());
      byGrant.get(payload.grantId).add(key);
    }
    if (model === 'Session' && payload.uid) sessionsByUid.set(payload.uid, id);
    if (payload.userCode) deviceCodesByUserCode.set(payload.userCode, id);
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
    let swept = 0;
    for (const [key, entry] of entries) {
      if (entry.expiresAt > now) continue;
      remove(key);
      swept++;
    }
    if (swept) onChange();
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
      index(key, { model: this.model, id, payload: { ...payload }, expiresAt });
      onChange();
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
      if (!entry) return;
      entry.payload.consumed = epochSeconds();
      onChange();
    }

    async destroy(id) {
      remove(this.key(id));
      onChange();
    }

    async revokeByGrantId(grantId) {
      for (const key of [...(byGrant.get(grantId) ?? [])]) remove(key);
      byGrant.delete(grantId);
      onChange();
    }
  }

  return {
    Adapter: MemoryAdapter,
    /** Every live entry, as plain data (expiresAt null = no expiry). */
    snapshot() {
      const now = Date.now();
      return [...entries.values()]
        .filter((e) => e.expiresAt > now)
        .map((e) => ({ model: e.model, id: e.id, payload: e.payload, expiresAt: Number.isFinite(e.expiresAt) ? e.expiresAt : null }));
    },
    /** Loads entries saved by snapshot() (expired ones are dropped). */
    restore(saved) {
      const now = Date.now();
      for (const e of saved) {
        const expiresAt = e.expiresAt === null ? Infinity : e.expiresAt;
        if (expiresAt > now) index(`${e.model}:${e.id}`, { model: e.model, id: e.id, payload: e.payload, expiresAt });
      }
    },
    /** Ids of the grants currently stored (not expired). */
    grantIds() {
      const ids = [];
      for (const [key, entry] of entries) if (entry.model === 'Grant' && live(key)) ids.push(entry.id);
      return ids;
    },
  };
}
