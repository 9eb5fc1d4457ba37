import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

/** The `@broker/...` libs a folder's TypeScript sources import. */
function brokerImports(dir: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) {
        for (const m of readFileSync(path, 'utf8').matchAll(/from '(@broker\/[\w-]+)'/g)) {
          found.set(m[1], [...(found.get(m[1]) ?? []), path.slice(ROOT.length + 1)]);
        }
      }
    }
  };
  walk(join(ROOT, dir));
  return found;
}

// The eslint module-boundary tags enforce the same at lint time (type:auth-kit, verifies:only);
// this keeps holding when lint is not run.
describe('the verification kit stays a kit', () => {
  it('imports no domain, adapter or workflow lib: only contracts, the bus and the runtime', () => {
    const libs = [...brokerImports('libs/auth-kit/src').keys()];
    expect(libs.length).toBeGreaterThan(0);
    expect(
      libs.filter((l) => !['@broker/contracts', '@broker/bus', '@broker/service-runtime'].includes(l)),
    ).toEqual([]);
  });

  it.each(['apps/gateway/src', 'apps/provider-registry/src'])(
    '%s verifies tokens with the kit and never imports the identity domain',
    (dir) => {
      const imports = brokerImports(dir);
      expect(imports.get('@broker/auth-kit')?.length).toBeGreaterThan(0);
      expect(imports.get('@broker/identity')).toBeUndefined();
    },
  );

  it('the token-broker, which issues and verifies, imports both', () => {
    const imports = brokerImports('apps/token-broker/src');
    expect(imports.has('@broker/auth-kit')).toBe(true);
    expect(imports.has('@broker/identity')).toBe(true);
  });
});
