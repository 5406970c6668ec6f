import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
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

/** A loopback redirect URI as a desktop client would register one; nothing listens, the browser's visit is intercepted. */
export const REDIRECT_URL = 'http://127.0.0.1:33418/callback';

/**
 * The application side of the SDK's OAuth flow, kept in memory: client registration, tokens and PKCE verifier.
 * `redirectToAuthorization` hands the URL to Chromium, which signs in as demo/demo and consents, and keeps the URL
 * the browser was sent back to.
 */
export class BrowserOAuthProvider implements OAuthClientProvider {
  readonly authorizationUrls: URL[] = [];
  readonly callbacks: URL[] = [];
  readonly states: string[] = [];
  #clientInformation: OAuthClientInformationMixed | undefined;
  #tokens: OAuthTokens | undefined;
  #codeVerifier: string | undefined;

  /** `grantTypes` are the ones the client registers (RFC 7591); without refresh_token it never holds a refresh token. */
  constructor(
    private readonly browser: Browser,
    private readonly grantTypes: string[] = ['authorization_code', 'refresh_token'],
  ) {}

  get redirectUrl(): string {
    return REDIRECT_URL;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'Portcullis SDK e2e client',
      redirect_uris: [REDIRECT_URL],
      grant_types: this.grantTypes,
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  state(): string {
    const state = crypto.randomUUID();
    this.states.push(state);
    return state;
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.#clientInformation;
  }

  saveClientInformation(clientInformation: OAuthClientInformationMixed): void {
    this.#clientInformation = clientInformation;
  }

  tokens(): OAuthTokens | undefined {
    return this.#tokens;
  }

  saveTokens(tokens: OAuthTokens): void {
    this.#tokens = tokens;
  }

  async redirectToAuthorization(authorizationUrl: URL): Promise<void> {
    this.authorizationUrls.push(authorizationUrl);
    this.callbacks.push(new URL(await authorizeInBrowser(this.browser, authorizationUrl.href)));
  }

  saveCodeVerifier(codeVerifier: string): void {
    this.#codeVerifier = codeVerifier;
  }

  codeVerifier(): string {
    if (this.#codeVerifier === undefined) throw new Error('no code verifier saved');
    return this.#codeVerifier;
  }
}
