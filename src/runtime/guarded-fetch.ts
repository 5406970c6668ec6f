import type { LookupAddress } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns/promises';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { MetadataFetchError, type MetadataFetch, type MetadataResponse } from '../../oauth/client-metadata-document.js';
import { isDisallowedAddress } from './ip-policy.js';

/** Resolves a host name to every address it has (the shape of `dns.promises.lookup(host, { all: true })`). */
export type ResolveHost = (hostname: string) => Promise<readonly LookupAddress[]>;

export interface GuardedFetchOptions {
  /** Development only: admit 127.0.0.0/8 and ::1, so tests can serve documents on loopback. Off by default. */
  allowLoopback?: boolean;
  /** Trust anchors replacing the default roots (tests pass a certificate made at test time). */
  ca?: string | Buffer;
  /** Name resolution; defaults to the system resolver (`dns.lookup`). */
  lookup?: ResolveHost;
}

const defaultResolve: ResolveHost = (hostname) => dnsLookup(hostname, { all: true });

/**
 * A `MetadataFetch` for untrusted URLs (client metadata documents) that only ever connects to public addresses.
 * The host is resolved once, every resolved address is checked (one disallowed address refuses the request), and
 * the socket is handed exactly the checked addresses, so a DNS answer that changes between check and connect
 * (rebinding) cannot redirect it; IP literals, which Node connects to without a lookup, are checked directly; the
 * connected peer is checked again. No redirects are followed, nothing is pooled, certificates are verified against
 * the URL's host name, the body is capped and the whole exchange is bounded by `timeoutMs`.
 */
export function createGuardedFetch(options: GuardedFetchOptions = {}): MetadataFetch {
  const policy = { allowLoopback: options.allowLoopback ?? false };
  const resolve = options.lookup ?? defaultResolve;

  const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
    resolve(hostname).then(
      (addresses) => {
        if (addresses.length === 0) {
          callback(new MetadataFetchError('network', `${hostname} has no addresses`), '', 0);
          return;
        }
        const refused = addresses.find((entry) => isDisallowedAddress(entry.address, policy));
        if (refused !== undefined) {
          const message = `${hostname} resolves to disallowed address ${refused.address}`;
          callback(new MetadataFetchError('refused', message), '', 0);
          return;
        }
        const wanted = lookupOptions.family === 4 || lookupOptions.family === 6 ? lookupOptions.family : 0;
        const usable = addresses.filter((entry) => wanted === 0 || entry.family === wanted);
        const [first] = usable;
        if (first === undefined) {
          callback(new MetadataFetchError('network', `${hostname} has no IPv${wanted} address`), '', 0);
        } else if (lookupOptions.all === true) {
          callback(null, usable.map(({ address, family }) => ({ address, family })));
        } else {
          callback(null, first.address, first.family);
        }
      },
      (error: unknown) => {
        callback(new MetadataFetchError('network', `cannot resolve ${hostname}`, { cause: error }), '', 0);
      },
    );
  };

  return function guardedFetch(url, limits) {
    if (url.protocol !== 'https:') {
      return Promise.reject(new MetadataFetchError('refused', `scheme ${url.protocol} is not https`));
    }
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    if (isIP(host) !== 0 && isDisallowedAddress(host, policy)) {
      return Promise.reject(new MetadataFetchError('refused', `address ${host} is not allowed`));
    }
    return send(url, host, limits);
  };

  function send(url: URL, host: string, limits: { timeoutMs: number; maxBytes: number }): Promise<MetadataResponse> {
    return new Promise<MetadataResponse>((resolvePromise, reject) => {
      let settled = false;
      const finish = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        outcome();
      };
      const fail = (error: MetadataFetchError): void =>
        finish(() => {
          req.destroy();
          reject(error);
        });

      const req = request({
        protocol: 'https:',
        host,
        port: url.port === '' ? 443 : Number(url.port),
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers: { accept: 'application/json', 'accept-encoding': 'identity', 'user-agent': 'portcullis' },
        // A fresh connection per fetch: a pooled socket would skip the address check of this request.
        agent: false,
        lookup,
        ...(isIP(host) === 0 ? { servername: host } : {}),
        ...(options.ca !== undefined ? { ca: options.ca } : {}),
        rejectUnauthorized: true,
      });
      const timer = setTimeout(
        () => fail(new MetadataFetchError('timeout', `no complete response within ${limits.timeoutMs} ms`)),
        limits.timeoutMs,
      );

      req.on('socket', (socket) => {
        // Defence in depth: whatever the lookup said, the peer actually connected to must be allowed.
        socket.once('connect', () => {
          const peer = socket.remoteAddress;
          if (peer === undefined || isDisallowedAddress(peer, policy)) {
            fail(new MetadataFetchError('refused', `connected to disallowed address ${peer ?? '(unknown)'}`));
          }
        });
      });
      req.on('error', (error) => {
        if (error instanceof MetadataFetchError) fail(error);
        else fail(new MetadataFetchError('network', error.message, { cause: error }));
      });
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        let headers: Headers;
        try {
          headers = toHeaders(res);
        } catch (error) {
          fail(new MetadataFetchError('network', 'malformed response headers', { cause: error }));
          return;
        }
        if (status < 200 || status >= 300) {
          // Neither redirects nor error pages are read: the caller only needs the status.
          finish(() => {
            res.destroy();
            resolvePromise({ status, headers, body: '' });
          });
          return;
        }
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > limits.maxBytes) {
          fail(new MetadataFetchError('too_large', `Content-Length ${declared} exceeds ${limits.maxBytes} bytes`));
          return;
        }
        readBody(res, limits.maxBytes, fail, (body) => finish(() => resolvePromise({ status, headers, body })));
      });
      req.end();
    });
  }
}

function readBody(
  res: IncomingMessage,
  maxBytes: number,
  fail: (error: MetadataFetchError) => void,
  done: (body: string) => void,
): void {
  const chunks: Buffer[] = [];
  let received = 0;
  res.on('data', (chunk: Buffer) => {
    received += chunk.byteLength;
    if (received > maxBytes) {
      fail(new MetadataFetchError('too_large', `body exceeds ${maxBytes} bytes`));
      return;
    }
    chunks.push(chunk);
  });
  res.on('error', (error) => fail(new MetadataFetchError('network', error.message, { cause: error })));
  res.on('close', () => {
    if (!res.complete) fail(new MetadataFetchError('network', 'connection closed before the body was complete'));
  });
  res.on('end', () => {
    let body: string;
    try {
      body = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
    } catch (error) {
      fail(new MetadataFetchError('network', 'body is not valid UTF-8', { cause: error }));
      return;
    }
    done(body);
  });
}

function toHeaders(res: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = res.rawHeaders;
  for (let index = 0; index + 1 < raw.length; index += 2) {
    headers.append(raw[index] ?? '', raw[index + 1] ?? '');
  }
  return headers;
}
