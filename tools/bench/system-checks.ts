// Checks around the benchmark system: the build is in place and fresh, an HTTP endpoint answers, a
// server's pid file names a running process.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
export const APPS = ['token-broker', 'provider-registry', 'worker', 'gateway'] as const;
export type App = (typeof APPS)[number];

export const appEntry = (app: App) => join(ROOT, 'dist', 'apps', app, 'main.js');

/** Warns when the build looks older than the sources (the bench runs dist/, not the sources). */
export function checkBuild(): string | null {
  const missing = APPS.filter((a) => !existsSync(appEntry(a)));
  if (missing.length)
    return `missing ${missing.map((a) => `dist/apps/${a}/main.js`).join(', ')}: run \`npm run build\` first`;
  const built = Math.min(...APPS.map((a) => statSync(appEntry(a)).mtimeMs));
  const newer = (dir: string): string | null => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name === 'node_modules') continue;
        const hit = newer(p);
        if (hit) return hit;
      } else if (/\.ts$/.test(e.name) && !/\.spec\.ts$/.test(e.name) && statSync(p).mtimeMs > built) return p;
    }
    return null;
  };
  for (const d of ['apps', 'libs']) {
    const hit = newer(join(ROOT, d));
    if (hit)
      return `warning: ${hit.slice(ROOT.length + 1)} is newer than dist/: the figures are for the last build (npm run build)`;
  }
  return null;
}

export async function httpOk(url: string, check?: (body: unknown) => boolean): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  if (res.status !== 200) {
    await res.body?.cancel();
    return false;
  }
  const body = (await res.json().catch(() => ({}))) as unknown;
  return check ? check(body) : true;
}

/** The PID in a server's pid file (PostgreSQL: first line of postmaster.pid), if running. */
export function pidFromFile(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0].trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}
