import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** Error codes of RFC 6749 §4.1.2.1 / §5.2, RFC 7591 §3.2.2, RFC 6750 §3.1, RFC 8707 §2 and RFC 7009 §2.2.1. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'unsupported_token_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_target'
  | 'login_required'
  | 'consent_required';

/**
 * The one error type of the authorization server. `description` is public: it goes on the wire, so it never
 * carries internal detail. Anything for operators goes to the log instead.
 */
export class OAuthError extends Error {
  readonly code: OAuthErrorCode;
  readonly status: ContentfulStatusCode;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: OAuthErrorCode,
    description: string,
    options: { status?: ContentfulStatusCode; headers?: Record<string, string> } = {},
  ) {
    super(description);
    this.name = 'OAuthError';
    this.code = code;
    this.status = options.status ?? (code === 'invalid_client' ? 401 : code === 'server_error' ? 500 : 400);
    this.headers = options.headers ?? {};
  }

  get description(): string {
    return this.message;
  }
}

/** Writes `{error, error_description}` with `Cache-Control: no-store` (RFC 6749 §5.2). */
export function oauthErrorResponse(c: Context, error: OAuthError): Response {
  for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
  c.header('Cache-Control', 'no-store');
  c.header('Pragma', 'no-cache');
  return c.json({ error: error.code, error_description: error.description }, error.status);
}
