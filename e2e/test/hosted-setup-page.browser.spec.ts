import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, BrowserContext, Page, chromium } from 'playwright-core';
import { SetupsSystem } from './setups-system';

const CHROMIUM = '/usr/bin/chromium';
const APP = 'http://127.0.0.1:1/app/setup-done';
const SHOTS = join(__dirname, '..', '..', 'tmp', 'screenshots', 'hosted-setup-page');
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

type AxeResult = {
  violations: { id: string; impact: string | null; help: string; nodes: { target: unknown }[] }[];
};

/**
 * The hosted setup page in real Chromium (Debian's package, driven by playwright-core; no browser
 * download) against the demo provider (oidc-provider): success with the authorization usable, an
 * expired link, a reused link, consent declined at the provider, the provider down. Each state is
 * screenshotted (tmp/screenshots, git-ignored) and checked with axe-core: no serious or critical
 * violation. Pages work without JavaScript (it is off in the browser).
 */
describe('hosted setup page in a browser', () => {
  const sys = new SetupsSystem('browser', {}, { DEMO_IDP_TEST_HOOKS: '1' });
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    await sys.start();
    // playwright-core gives the browser a fresh --user-data-dir of its own (a new temporary profile per launch, removed on close).
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await sys.stop();
  });

  /** A fresh browser context (no cookies), without JavaScript, phone-sized; the app's redirect target answered locally. */
  async function open(): Promise<{ context: BrowserContext; page: Page; landed: () => URL | undefined }> {
    const context = await browser.newContext({
      javaScriptEnabled: false,
      viewport: { width: 390, height: 844 },
    });
    let landing: URL | undefined;
    await context.route(`${APP}**`, (route) => {
      landing = new URL(route.request().url());
      return route.fulfill({
        status: 200,
        contentType: 'text/html',
        body: '<!doctype html><html lang="en"><title>App</title><main><h1>Back in the app</h1></main></html>',
      });
    });
    context.setDefaultTimeout(15_000);
    return { context, page: await context.newPage(), landed: () => landing };
  }

  /** The visible words of the page (read from its HTML: the flows run with JavaScript off, where Playwright cannot evaluate in the page). */
  async function words(page: Page): Promise<string> {
    const html = await page.content();
    const main = /<main>([\s\S]*)<\/main>/.exec(html)?.[1] ?? html;
    return main
      .replace(/<[^>]+>/g, ' ')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&#(\d+);/g, (_m, c: string) => String.fromCharCode(Number(c)))
      .replace(/\s+/g, ' ');
  }

  /**
   * A screenshot of the state and an axe-core check (serious and critical violations fail). The
   * page itself runs without JavaScript, so axe runs on the same rendered document in a second,
   * script-enabled page of the same size.
   */
  async function check(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
    const html = await page.content();
    const auditContext = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const audit = await auditContext.newPage();
    await audit.setContent(html);
    const result = (await audit.evaluate(
      `${AXE}\n;axe.run(document, { resultTypes: ['violations'] })`,
    )) as AxeResult;
    await auditContext.close();
    const serious = result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.help}`);
    expect({ name, serious }).toEqual({ name, serious: [] });
  }

  async function signIn(page: Page): Promise<void> {
    await page.waitForURL(/\/interaction\//, { timeout: 10_000 });
    await page.getByLabel('E-mail').fill('ada@example.test', { timeout: 10_000 });
    await page.getByRole('button', { name: 'Sign in' }).click({ timeout: 10_000 });
  }

  it('open link → consent → back at redirect_url with success, and the authorization serves a token', async () => {
    const setup = await sys.createSetup({
      name: 'Acme reports',
      description: 'Acme reads your profile to fill in reports.',
      redirect_url: APP,
      config: { scopes: ['openid', 'email', 'profile'] },
    });
    const { context, page, landed } = await open();
    const response = await page.goto(setup.url);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(response?.headers()['referrer-policy']).toBe('no-referrer');
    expect(response?.headers()['cache-control']).toBe('no-store');
    expect(response?.headers()['x-frame-options']).toBe('DENY');
    const text = await words(page);
    expect(text).toContain('Connect your Demo account');
    expect(text).toContain('Ada Lovelace <ada@example.test>');
    expect(text).toContain('Acme reports asks Demo for');
    expect(text).toContain('See your email address');
    await check(page, '1-setup-page');
    // Keyboard: the continue button is reachable by Tab and works with Enter.
    const continueButton = page.getByRole('button', { name: /Continue to Demo/ });
    await continueButton.focus();
    await Promise.all([page.waitForURL(/\/interaction\//), page.keyboard.press('Enter')]);
    await page.screenshot({ path: join(SHOTS, '2-provider-sign-in.png'), fullPage: true });
    await signIn(page);
    await page.waitForURL(`${APP}**`);
    expect(Object.fromEntries(landed()?.searchParams ?? [])).toEqual({
      status: 'completed',
      setup_id: setup.id,
    });
    await page.screenshot({ path: join(SHOTS, '3-back-in-the-app.png'), fullPage: true });
    const read = (await (await sys.api(sys.setupsPath(setup.id), sys.ada)).json()) as {
      status: string;
      auth_config: { id: string };
    };
    expect(read.status).toBe('completed');
    const token = await sys.api(
      `/api/v2/externalOAuth/authorizedProviders/${read.auth_config.id}/token/`,
      sys.ada,
      { method: 'POST' },
    );
    expect(token.status).toBe(201);
    // Reused link: refused in words.
    const again = await page.goto(setup.url);
    expect(again?.status()).toBe(410);
    expect(await words(page)).toContain('already been used');
    await check(page, '4-used-link');
    await context.close();
  });

  it('without redirect_url, the page itself says the account is connected', async () => {
    const setup = await sys.createSetup({ name: 'No redirect' });
    const { context, page } = await open();
    await page.goto(setup.url);
    await page.getByRole('button', { name: /Continue to Demo/ }).click({ timeout: 10_000 });
    await signIn(page);
    await page.waitForURL(/\/api\/v2\/externalOAuth\/providers\/callback/);
    expect(await words(page)).toContain('Your account is connected');
    await check(page, '5-connected-no-redirect');
    await context.close();
  });

  it('an expired link says so', async () => {
    const setup = await sys.createSetup({ expires_at: new Date(Date.now() + 1000).toISOString() });
    await new Promise((r) => setTimeout(r, 1200));
    const { context, page } = await open();
    const response = await page.goto(setup.url);
    expect(response?.status()).toBe(410);
    const text = await words(page);
    expect(text).toContain('This link has expired');
    expect(text).not.toMatch(/\{|Error:|at .*\.js/);
    await check(page, '6-expired-link');
    // A made-up link: unknown, in words.
    const unknown = await page.goto(`${sys.base}/connect/setup/${'A'.repeat(43)}`);
    expect(unknown?.status()).toBe(404);
    expect(await words(page)).toContain('This link is not valid');
    await context.close();
  });

  it('consent declined at the provider: back at redirect_url with failed, the setup failed', async () => {
    const setup = await sys.createSetup({ redirect_url: APP });
    const { context, page, landed } = await open();
    await page.goto(setup.url);
    await page.getByRole('button', { name: /Continue to Demo/ }).click();
    await page.getByRole('button', { name: 'Decline' }).click();
    await page.waitForURL(`${APP}**`);
    expect(Object.fromEntries(landed()?.searchParams ?? [])).toEqual({
      status: 'failed',
      setup_id: setup.id,
      error: 'access_denied',
    });
    const read = (await (await sys.api(sys.setupsPath(setup.id), sys.ada)).json()) as {
      status: string;
      url: string | null;
    };
    expect(read).toMatchObject({ status: 'failed', url: null });
    await context.close();
    // Without a redirect_url the page says it in words.
    const plain = await sys.createSetup({ name: 'Declined here' });
    const second = await open();
    await second.page.goto(plain.url);
    await second.page.getByRole('button', { name: /Continue to Demo/ }).click();
    await second.page.getByRole('button', { name: 'Decline' }).click();
    await second.page.waitForURL(/\/api\/v2\/externalOAuth\/providers\/callback/);
    expect(await words(second.page)).toContain('declined');
    await check(second.page, '7-consent-declined');
    await second.context.close();
  });

  it('provider down at the code exchange: a page says to try again, and the link still works afterwards', async () => {
    const setup = await sys.createSetup({ redirect_url: APP });
    const { context, page, landed } = await open();
    await page.goto(setup.url);
    await page.getByRole('button', { name: /Continue to Demo/ }).click();
    // The provider's token endpoint is down (503) when the broker exchanges the code.
    const armed = await fetch(`${sys.idp.issuer}/__test/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tokenStatus: 503, count: 5 }),
    });
    expect(armed.status).toBe(200);
    await signIn(page);
    await page.waitForURL(/\/api\/v2\/externalOAuth\/providers\/callback/);
    const text = await words(page);
    expect(text).toContain('The provider did not answer');
    expect(text).not.toMatch(/\{|stack|Error:/);
    await check(page, '8-provider-down');
    expect(landed()).toBeUndefined();
    const read = (await (await sys.api(sys.setupsPath(setup.id), sys.ada)).json()) as {
      status: string;
      url: string | null;
    };
    expect(read).toMatchObject({ status: 'opened', url: setup.url });
    await context.close();
    await fetch(`${sys.idp.issuer}/__test/reset`, { method: 'POST' });
    // The same link works once the provider is back.
    const retry = await open();
    await retry.page.goto(setup.url);
    await retry.page.getByRole('button', { name: /Continue to Demo/ }).click();
    await signIn(retry.page);
    await retry.page.waitForURL(`${APP}**`);
    expect(Object.fromEntries(retry.landed()?.searchParams ?? [])).toEqual({
      status: 'completed',
      setup_id: setup.id,
    });
    await retry.context.close();
  });
});
