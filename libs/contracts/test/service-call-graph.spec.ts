import fs from 'node:fs';
import path from 'node:path';
import { BUS_PATTERN_OWNERS, BusPattern, SERVICE_NAMES, ServiceName } from '../src';

const ROOT = path.resolve(__dirname, '../../..');

/** Every `.request('pattern'` in the TypeScript sources under `dir` (tests aside), by file. */
function requestsUnder(dir: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'test' && entry.name !== 'node_modules') walk(full);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) {
        const found = [
          ...fs.readFileSync(full, 'utf8').matchAll(/\.request(?:<[^>]*>)?\(\s*['"]([a-z0-9.-]+)['"]/g),
        ];
        if (found.length)
          out.set(
            path.relative(ROOT, full),
            found.map((m) => m[1]),
          );
      }
    }
  };
  walk(path.join(ROOT, dir));
  return out;
}

/**
 * Lib files that send bus requests, and which services run those requests: a service runs them
 * when its app's sources match. A new lib file that sends requests must be placed here, so the
 * graph below never misses a caller. (libs/broker-client is the client of services outside this
 * repository; none of the four apps uses it.)
 */
const LIB_REQUESTERS: Record<string, (appSource: string) => boolean> = {
  // The bus-fed verification; `TokenVerificationModule.fromDatabase(...)` reads PostgreSQL instead.
  'libs/auth-kit/src/lib/authorization/token-verification.module.ts': (src) =>
    /\bTokenVerificationModule\b(?!\.fromDatabase)/.test(src),
};

/** Every TypeScript source of an app, concatenated (to see which lib pieces it wires). */
function appSource(service: ServiceName): string {
  const all: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith('.ts')) all.push(fs.readFileSync(full, 'utf8'));
    }
  };
  walk(path.join(ROOT, `apps/${service}/src`));
  // Import lines name what a file may use, not what it wires.
  return all.join('\n').replace(/^import [\s\S]*?from '[^']+';$/gm, '');
}

/** Caller -> the services it sends requests to (through the owner map), from the sources. */
function serviceCallGraph(): Map<ServiceName, Set<ServiceName>> {
  const libRequests = new Map<string, string[]>();
  for (const lib of fs.readdirSync(path.join(ROOT, 'libs'))) {
    if (lib === 'broker-client') continue;
    for (const [file, patterns] of requestsUnder(`libs/${lib}/src`)) libRequests.set(file, patterns);
  }
  for (const file of libRequests.keys())
    if (!(file in LIB_REQUESTERS))
      throw new Error(`${file} sends bus requests: name who runs them in LIB_REQUESTERS`);
  const graph = new Map<ServiceName, Set<ServiceName>>();
  for (const service of SERVICE_NAMES) {
    const patterns = [...requestsUnder(`apps/${service}/src`).values()].flat();
    const src = appSource(service);
    for (const [file, libPatterns] of libRequests)
      if (LIB_REQUESTERS[file](src)) patterns.push(...libPatterns);
    const callees = new Set<ServiceName>();
    for (const p of patterns) {
      const owner = BUS_PATTERN_OWNERS[p as BusPattern];
      if (!owner) throw new Error(`${service} requests '${p}', a pattern with no owner`);
      if (owner !== service) callees.add(owner);
    }
    graph.set(service, callees);
  }
  return graph;
}

/** A cycle in the graph (as the list of services around it), or null. */
function findCycle(graph: Map<ServiceName, Set<ServiceName>>): ServiceName[] | null {
  const state = new Map<ServiceName, 'open' | 'done'>();
  const stack: ServiceName[] = [];
  const visit = (s: ServiceName): ServiceName[] | null => {
    if (state.get(s) === 'done') return null;
    if (state.get(s) === 'open') return [...stack.slice(stack.indexOf(s)), s];
    state.set(s, 'open');
    stack.push(s);
    for (const next of graph.get(s) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(s, 'done');
    return null;
  };
  for (const s of graph.keys()) {
    const cycle = visit(s);
    if (cycle) return cycle;
  }
  return null;
}

describe('the services call each other without a cycle at run time', () => {
  it('the call graph derived from the sources and the bus owner map is acyclic', () => {
    const graph = serviceCallGraph();
    expect(findCycle(graph)).toBeNull();
    // The edges that exist: the gateway calls both, the token-broker calls the registry; nobody
    // calls the gateway or the worker, and the registry calls no one.
    expect([...(graph.get('gateway') ?? [])].sort()).toEqual(['provider-registry', 'token-broker']);
    expect([...(graph.get('token-broker') ?? [])]).toEqual(['provider-registry']);
    expect([...(graph.get('provider-registry') ?? [])]).toEqual([]);
    expect([...(graph.get('worker') ?? [])]).toEqual([]);
  });

  it('finds the cycle the registry asking the token-broker for its keys made', () => {
    const graph = serviceCallGraph();
    graph.get('provider-registry')?.add(BUS_PATTERN_OWNERS['identity.jwks']);
    expect(findCycle(graph)).toEqual(expect.arrayContaining(['provider-registry', 'token-broker']));
  });

  it('counts a lib request for every app that wires it (the bus-fed verification of the gateway)', () => {
    const wired = LIB_REQUESTERS['libs/auth-kit/src/lib/authorization/token-verification.module.ts'];
    expect(wired('imports: [TokenVerificationModule],')).toBe(true);
    expect(wired('TokenVerificationModule.fromDatabase(domainDataSourceToken(REGISTRY_SCHEMA))')).toBe(false);
  });
});
