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
 * redirect target need not be served: its URL is read off the request the browser sends there.
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
 * Resolves with the URL of the first navigation that leaves `origin`. Chromium follows redirects in its own
 * network stack, where `page.route` never sees them, so the URL is taken from the `request` event, which fires for
 * redirects too. When `follow` is set, resolves only once the page there has loaded.
 */
function waitForRedirectAway(page: Page, origin: string, follow = false): Promise<string> {
  if (follow) return page.waitForURL((url) => url.protocol.startsWith('http') && url.origin !== origin).then(() => page.url());
  return new Promise((resolve) => {
    page.on('request', (request) => {
      if (request.isNavigationRequest() && request.frame() === page.mainFrame() && new URL(request.url()).origin !== origin) resolve(request.url());
    });
  });
}
