import { MetadataFetchError, type MetadataFetch } from '../../oauth/client-metadata-document.js';
import { concatBytes } from '../../oauth/http.js';
import { isLoopbackHost } from '../config/settle.js';

/**
 * A `MetadataFetch` for Workers. A Worker cannot resolve names nor pick the address it connects to, so the address
 * checks of the Node runtime's guarded fetch have no place here; what protects private networks is the platform: a
 * Worker's `fetch` leaves from Cloudflare's edge, which does not route to private addresses and refuses IP literals.
 * This fetch refuses IP literals and `localhost` names itself (local workerd can reach the machine's network) and
 * keeps the rest of the policy: https only, no redirects, a byte cap and one deadline for the whole exchange.
 */
export function createWorkersMetadataFetch(options: { allowLoopback: boolean }): MetadataFetch {
  return async (url, limits) => {
    if (url.protocol !== 'https:') throw new MetadataFetchError('refused', `scheme ${url.protocol} is not https`);
    // A trailing dot names the same host (localhost. is localhost).
    const host = url.hostname.endsWith('.') ? url.hostname.slice(0, -1) : url.hostname;
    if ((isIpLiteral(host) || isLocalhost(host)) && !(options.allowLoopback && isLoopbackHost(host))) {
      throw new MetadataFetchError('refused', `host ${url.hostname} is not allowed`);
    }
    const signal = AbortSignal.timeout(limits.timeoutMs);
    try {
      const response = await fetch(url, { redirect: 'manual', signal, headers: { accept: 'application/json', 'user-agent': 'portcullis' } });
      if (response.status < 200 || response.status >= 300) {
        await response.body?.cancel();
        return { status: response.status, headers: response.headers, body: '' };
      }
      const declared = Number(response.headers.get('content-length'));
      if (Number.isFinite(declared) && declared > limits.maxBytes) {
        await response.body?.cancel();
        throw new MetadataFetchError('too_large', `Content-Length ${declared} exceeds ${limits.maxBytes} bytes`);
      }
      return { status: response.status, headers: response.headers, body: await readCapped(response, limits.maxBytes) };
    } catch (error) {
      if (error instanceof MetadataFetchError) throw error;
      if (signal.aborted) throw new MetadataFetchError('timeout', `no complete response within ${limits.timeoutMs} ms`);
      throw new MetadataFetchError('network', (error as Error).message, { cause: error });
    }
  };
}

function isIpLiteral(hostname: string): boolean {
  // The URL parser writes every IPv4 form (hex, octal, short) as dotted decimal and IPv6 in brackets.
  return hostname.startsWith('[') || /^\d{1,3}(?:\.\d{1,3}){3}$/.test(hostname);
}

/** `localhost` and its subdomains always mean loopback (RFC 6761 §6.3). */
function isLocalhost(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost');
}

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let received = 0;
  const reader = response.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > maxBytes) {
      await reader.cancel();
      throw new MetadataFetchError('too_large', `body exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(concatBytes(chunks, received));
  } catch (error) {
    throw new MetadataFetchError('network', 'body is not valid UTF-8', { cause: error });
  }
}
