import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium, headless, with the flags this sandbox needs (no network beyond loopback). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export interface LoginOptions {
  username?: string;
  password?: string;
  decision?: 'allow' | 'deny';
  /** Let the final redirect reach the client's redirect URI, which must be served, and wait for its answer. */
  followFinalRedirect?: boolean;
}

/**
 * Opens an authorization URL and completes the gateway's login and consent pages like a person would, then
 * returns the URL the browser was redirected to (the client's redirect URI with `code` or `error`). The
 * redirect target need not be served: the navigation is intercepted when it leaves the gateway.
 */
export async function authorizeInBrowser(browser: Browser, authorizationUrl: string, options: LoginOptions = {}): Promise<string> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const gatewayOrigin = new URL(authorizationUrl).origin;
    const redirected = waitForRedirectAway(page, gatewayOrigin, options.followFinalRedirect === true);
    await page.goto(authorizationUrl);
    const done = await Promise.race([redirected, page.waitForSelector('input[name="username"], button[value="allow"]').then(() => undefined)]);
    if (done !== undefined) return done;
    if (await page.locator('input[name="username"]').count()) {
      await page.getByLabel('Username').fill(options.username ?? 'demo');
      await page.getByLabel('Password').fill(options.password ?? 'demo');
      await page.getByRole('button', { name: 'Sign in' }).click();
      const after = await Promise.race([redirected, page.waitForSelector('button[value="allow"]').then(() => undefined)]);
      if (after !== undefined) return after;
    }
    await page.getByRole('button', { name: options.decision === 'deny' ? 'Deny' : 'Allow' }).click();
    return await redirected;
  } finally {
    await context.close();
  }
}

/**
 * Resolves with the first navigation that leaves `origin`, and aborts it so no listener is needed there; when
 * `follow` is set, lets it through instead and resolves once the page there has loaded.
 */
function waitForRedirectAway(page: Page, origin: string, follow = false): Promise<string> {
  if (follow) return page.waitForURL((url) => url.protocol.startsWith('http') && url.origin !== origin).then(() => page.url());
  return new Promise((resolve) => {
    void page.route('**/*', async (route) => {
      const url = route.request().url();
      if (route.request().isNavigationRequest() && !url.startsWith(origin)) {
        resolve(url);
        await route.abort();
      } else {
        await route.continue();
      }
    });
  });
}
