import { adapterFor, resolveProvider, type AppInstallation } from '../../src';

describe('GitHub adapter: the app install page', () => {
  const github = resolveProvider('github', {});
  const ghe = resolveProvider('github', { host: 'ghe.example.com' });
  const adapter = adapterFor('github');
  const reached = [{ id: 1, appSlug: 'from-installation' }] as AppInstallation[];

  it('takes the configured install URL first, then the configured slug, then one an installation names', () => {
    expect(
      adapter.appInstallUrl?.(
        github,
        { installUrl: 'https://github.com/apps/x/installations/select_target', slug: 'y' },
        reached,
      ),
    ).toBe('https://github.com/apps/x/installations/select_target');
    expect(adapter.appInstallUrl?.(github, { slug: 'my app' }, reached)).toBe(
      'https://github.com/apps/my%20app/installations/new',
    );
    expect(adapter.appInstallUrl?.(ghe, undefined, reached)).toBe(
      'https://ghe.example.com/apps/from-installation/installations/new',
    );
  });

  it('is empty when nothing names the app, and other providers have no app to install', () => {
    expect(adapter.appInstallUrl?.(github, undefined, [])).toBe('');
    expect(adapterFor('gitlab').appInstallUrl).toBeUndefined();
  });
});
