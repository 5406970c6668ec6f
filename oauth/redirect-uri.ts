import { OAuthError } from './errors.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'blob:', 'about:', 'ftp:', 'ws:', 'wss:']);

export type RedirectKind = 'https' | 'loopback' | 'private-use';

/**
 * Classifies a redirect URI the way the MCP authorization spec and OAuth 2.1 allow them: https; http only on a
 * loopback host (RFC 8252 §7.3); or a private-use scheme in reverse-domain form, i.e. containing a dot
 * (RFC 8252 §7.1). Fragments are never allowed (RFC 6749 §3.1.2).
 */
export function classifyRedirectUri(value: string): RedirectKind {
  if (value.includes('#')) throw invalid('redirect_uri must not contain a fragment');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('redirect_uri is not an absolute URI');
  }
  if (url.username || url.password) throw invalid('redirect_uri must not contain credentials');
  if (url.protocol === 'https:') return 'https';
  if (url.protocol === 'http:') {
    if (LOOPBACK_HOSTS.has(url.hostname)) return 'loopback';
    throw invalid('http redirect_uri is only allowed on a loopback host');
  }
  if (FORBIDDEN_SCHEMES.has(url.protocol)) throw invalid(`the ${url.protocol} scheme is not allowed in redirect_uri`);
  if (!url.protocol.slice(0, -1).includes('.')) {
    throw invalid('a private-use redirect_uri scheme must be in reverse-domain form, e.g. com.example.app:');
  }
  return 'private-use';
}

/**
 * Whether a redirect URI presented at the authorization endpoint matches a registered one: exactly, except
 * that loopback redirects may use any port (RFC 8252 §7.3).
 */
export function redirectUriMatches(registered: string, presented: string): boolean {
  if (registered === presented) return true;
  let a: URL;
  let b: URL;
  try {
    a = new URL(registered);
    b = new URL(presented);
  } catch {
    return false;
  }
  if (a.protocol !== 'http:' || !LOOPBACK_HOSTS.has(a.hostname) || presented.includes('#')) return false;
  return (
    b.protocol === 'http:' &&
    b.hostname === a.hostname &&
    b.pathname === a.pathname &&
    b.search === a.search &&
    !b.username &&
    !b.password
  );
}

function invalid(description: string): OAuthError {
  return new OAuthError('invalid_redirect_uri', description);
}
