import * as oauth from 'oauth4webapi';

export interface UpstreamOAuthConfig {
  issuer: string;
  clientId: string;
  clientSecret: string;
  scope?: string | undefined;
  resource?: string | undefined;
}

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);
// A token is renewed this long before it expires, so a request never leaves with one about to lapse.
const EXPIRY_MARGIN_MS = 30_000;

/**
 * The gateway's own access token for one upstream: OAuth 2.0 client credentials (RFC 6749 §4.4) against the
 * upstream's authorization server, discovered from its issuer (RFC 8414), with the resource indicator of RFC 8707.
 * Tokens are cached until shortly before they expire and shared by every session of this process.
 */
export class UpstreamTokens {
  readonly #config: UpstreamOAuthConfig;
  readonly #now: () => number;
  readonly #insecure: boolean;
  #server: Promise<oauth.AuthorizationServer> | undefined;
  #token: Promise<{ value: string; expiresAt: number }> | undefined;

  constructor(config: UpstreamOAuthConfig, now: () => number = Date.now) {
    this.#config = config;
    this.#now = now;
    // oauth4webapi refuses plain http; allow it only where the gateway allows an http issuer itself.
    this.#insecure = new URL(config.issuer).protocol === 'http:' && LOOPBACK.has(new URL(config.issuer).hostname);
  }

  /** A valid access token, from the cache or fresh. */
  async get(): Promise<string> {
    const cached = this.#token && (await this.#token.catch(() => undefined));
    if (cached && cached.expiresAt - EXPIRY_MARGIN_MS > this.#now()) return cached.value;
    this.#token = this.#request();
    try {
      return (await this.#token).value;
    } catch (error) {
      this.#token = undefined;
      throw error;
    }
  }

  /** Forgets the cached token, after the upstream refused it. */
  invalidate(): void {
    this.#token = undefined;
  }

  async #request(): Promise<{ value: string; expiresAt: number }> {
    const options = { [oauth.allowInsecureRequests]: this.#insecure };
    this.#server ??= oauth
      .discoveryRequest(new URL(this.#config.issuer), options)
      .then((response) => oauth.processDiscoveryResponse(new URL(this.#config.issuer), response))
      .catch((error: unknown) => {
        this.#server = undefined;
        throw error;
      });
    const server = await this.#server;
    const client: oauth.Client = { client_id: this.#config.clientId };
    const parameters: Record<string, string> = {
      ...(this.#config.scope !== undefined && { scope: this.#config.scope }),
      ...(this.#config.resource !== undefined && { resource: this.#config.resource }),
    };
    const response = await oauth.clientCredentialsGrantRequest(server, client, oauth.ClientSecretBasic(this.#config.clientSecret), parameters, options);
    const result = await oauth.processClientCredentialsResponse(server, client, response);
    return { value: result.access_token, expiresAt: this.#now() + (result.expires_in ?? 300) * 1000 };
  }

  /** A fetch that sends the token, and on a 401 renews it and tries once more. */
  fetch(): typeof fetch {
    return async (input, init) => {
      const send = async () => {
        const headers = new Headers(init?.headers);
        headers.set('authorization', `Bearer ${await this.get()}`);
        return fetch(input, { ...init, headers });
      };
      const response = await send();
      if (response.status !== 401) return response;
      this.invalidate();
      await response.body?.cancel();
      return send();
    };
  }
}
