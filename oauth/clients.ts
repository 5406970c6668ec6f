import { z } from 'zod';
import { createClientMetadataResolver, isClientIdMetadataUrl, type MetadataFetch } from './client-metadata-document.js';
import { randomToken, secretsEqual, tokenHash } from './crypto.js';
import { OAuthError } from './errors.js';
import { classifyRedirectUri } from './redirect-uri.js';
import type { OAuthStorage } from './storage.js';
import type { ServiceClient } from './types.js';

export type AuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post';

const httpsUrl = z.string().max(2048).refine((value) => URL.canParse(value) && new URL(value).protocol === 'https:');

/**
 * Client metadata (RFC 7591 §2) as this server accepts it. Unknown fields are dropped, as §2 asks; known fields
 * with bad values are refused.
 */
const clientMetadataSchema = z.object({
  redirect_uris: z.array(z.string().max(2048)).min(1).max(20),
  token_endpoint_auth_method: z.enum(['none', 'client_secret_basic', 'client_secret_post']).default('client_secret_basic'),
  grant_types: z.array(z.enum(['authorization_code', 'refresh_token'])).min(1).default(['authorization_code']),
  response_types: z.array(z.literal('code')).min(1).default(['code']),
  application_type: z.enum(['web', 'native']).optional(),
  client_name: z.string().min(1).max(200).optional(),
  client_uri: httpsUrl.optional(),
  logo_uri: httpsUrl.optional(),
  tos_uri: httpsUrl.optional(),
  policy_uri: httpsUrl.optional(),
  contacts: z.array(z.string().max(320)).max(10).optional(),
  scope: z.string().max(1000).optional(),
  software_id: z.string().max(200).optional(),
  software_version: z.string().max(200).optional(),
});

export type ClientMetadata = z.output<typeof clientMetadataSchema> & { application_type: 'web' | 'native' };

/** A client as the endpoints see it, wherever it came from. */
export interface Client {
  clientId: string;
  kind: 'dynamic' | 'metadata-document' | 'service';
  metadata: ClientMetadata;
  /** SHA-256 of the secret for dynamic confidential clients. */
  secretHash?: string;
  /** The configured secret of a service client. */
  secret?: string;
  /** The tenant a service client is bound to. */
  tenant?: string;
  allowedScopes?: readonly string[];
}

/** What the store keeps for a dynamically registered client (RFC 7591 / RFC 7592). */
export interface RegisteredClient {
  clientId: string;
  issuedAt: number;
  metadata: ClientMetadata;
  secretHash?: string;
  registrationTokenHash: string;
}

/** Validates client metadata; every failure is an RFC 7591 §3.2.2 error naming the field. */
export function parseClientMetadata(input: unknown): ClientMetadata {
  const parsed = clientMetadataSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || 'metadata';
    const code = issue?.path[0] === 'redirect_uris' ? 'invalid_redirect_uri' : 'invalid_client_metadata';
    throw new OAuthError(code, `${field}: ${issue?.message ?? 'invalid'}`);
  }
  const metadata = parsed.data;
  const kinds = metadata.redirect_uris.map(classifyRedirectUri);
  if (metadata.grant_types.includes('refresh_token') && !metadata.grant_types.includes('authorization_code')) {
    throw new OAuthError('invalid_client_metadata', 'grant_types: refresh_token requires authorization_code');
  }
  // Loopback and private-use redirects can only be served by an app on the user's device (RFC 8252 §8.4).
  const native = kinds.some((kind) => kind !== 'https');
  return { ...metadata, application_type: native ? 'native' : (metadata.application_type ?? 'web') };
}

export interface ClientRegistryOptions {
  storage: OAuthStorage;
  serviceClients: readonly ServiceClient[];
  now: () => number;
  /** Set when client ID metadata documents are enabled. */
  metadataDocuments?: { fetch: MetadataFetch; timeoutMs?: number; maxBytes?: number; cacheMaxSeconds?: number };
}

const clientKey = (clientId: string) => `client:${clientId}`;
/** The ids of registered clients, newest last, for admins to list; registration needs no index to work. */
const INDEX_KEY = 'clients:index';
const MAX_INDEXED_CLIENTS = 10_000;
const INDEX_ATTEMPTS = 5;

/** Finds clients (registered, configured, or described by a metadata document) and authenticates them. */
export class ClientRegistry {
  readonly #storage: OAuthStorage;
  readonly #now: () => number;
  readonly #service: ReadonlyMap<string, ServiceClient>;
  readonly #resolveDocument: ((url: string) => Promise<ClientMetadata>) | undefined;

  constructor(options: ClientRegistryOptions) {
    this.#storage = options.storage;
    this.#now = options.now;
    this.#service = new Map(options.serviceClients.map((client) => [client.clientId, client]));
    const documents = options.metadataDocuments;
    this.#resolveDocument = documents
      ? createClientMetadataResolver({
          fetch: documents.fetch,
          storage: options.storage,
          now: options.now,
          validate: parseDocumentMetadata,
          ...(documents.timeoutMs !== undefined && { timeoutMs: documents.timeoutMs }),
          ...(documents.maxBytes !== undefined && { maxBytes: documents.maxBytes }),
          ...(documents.cacheMaxSeconds !== undefined && { cacheMaxSeconds: documents.cacheMaxSeconds }),
        })
      : undefined;
  }

  get metadataDocumentsSupported(): boolean {
    return this.#resolveDocument !== undefined;
  }

  /** The client, or undefined when no such client exists. Metadata document failures throw `invalid_client`. */
  async find(clientId: string): Promise<Client | undefined> {
    if (clientId.length === 0 || clientId.length > 2048) return undefined;
    if (isClientIdMetadataUrl(clientId)) {
      if (!this.#resolveDocument) return undefined;
      return { clientId, kind: 'metadata-document', metadata: await this.#resolveDocument(clientId) };
    }
    const service = this.#service.get(clientId);
    if (service) {
      return {
        clientId,
        kind: 'service',
        secret: service.clientSecret,
        tenant: service.tenant,
        allowedScopes: service.scopes,
        metadata: {
          redirect_uris: [],
          token_endpoint_auth_method: 'client_secret_basic',
          grant_types: ['authorization_code'],
          response_types: ['code'],
          application_type: 'web',
          client_name: service.name,
        },
      };
    }
    const registered = await this.#storage.get<RegisteredClient>(clientKey(clientId));
    if (!registered) return undefined;
    return {
      clientId,
      kind: 'dynamic',
      metadata: registered.metadata,
      ...(registered.secretHash !== undefined && { secretHash: registered.secretHash }),
    };
  }

  /** Whether `secret` is this client's secret, compared in constant time. */
  async secretMatches(client: Client, secret: string): Promise<boolean> {
    if (client.secret !== undefined) return secretsEqual(secret, client.secret);
    if (client.secretHash !== undefined) return secretsEqual(await tokenHash(secret), client.secretHash);
    return false;
  }

  /** Registers a client (RFC 7591 §3.1); returns the record and the one-time secrets to hand out. */
  async register(metadata: ClientMetadata): Promise<{ record: RegisteredClient; secret?: string; registrationToken: string }> {
    const clientId = randomToken(16);
    const registrationToken = randomToken();
    const secret = metadata.token_endpoint_auth_method === 'none' ? undefined : randomToken();
    const record: RegisteredClient = {
      clientId,
      issuedAt: Math.floor(this.#now() / 1000),
      metadata,
      registrationTokenHash: await tokenHash(registrationToken),
      ...(secret !== undefined && { secretHash: await tokenHash(secret) }),
    };
    await this.#storage.set(clientKey(clientId), record);
    await this.#changeIndex((ids) => [...ids, clientId].slice(-MAX_INDEXED_CLIENTS));
    return { record, registrationToken, ...(secret !== undefined && { secret }) };
  }

  /** The ids of the registered clients (RFC 7591), newest last; the oldest drop out past 10,000. */
  async registered(): Promise<string[]> {
    return (await this.#storage.get<string[]>(INDEX_KEY)) ?? [];
  }

  /** Index updates by compare-and-set; under heavy contention an id may stay unlisted, never unregistered. */
  async #changeIndex(change: (ids: string[]) => string[]): Promise<void> {
    for (let attempt = 0; attempt < INDEX_ATTEMPTS; attempt++) {
      const current = await this.#storage.get<string[]>(INDEX_KEY);
      if (await this.#storage.compareAndSet(INDEX_KEY, current, change(current ?? []))) return;
    }
  }

  /** The registered client a registration access token belongs to (RFC 7592 §3), or undefined. */
  async forRegistrationToken(clientId: string, token: string): Promise<RegisteredClient | undefined> {
    const record = await this.#storage.get<RegisteredClient>(clientKey(clientId));
    if (!record) return undefined;
    return (await secretsEqual(await tokenHash(token), record.registrationTokenHash)) ? record : undefined;
  }

  async update(record: RegisteredClient): Promise<void> {
    await this.#storage.set(clientKey(record.clientId), record);
  }

  async remove(clientId: string): Promise<void> {
    await this.#storage.delete(clientKey(clientId));
    await this.#changeIndex((ids) => ids.filter((id) => id !== clientId));
  }
}

/** A metadata document's client is public: the draft forbids shared secrets in a published document. */
function parseDocumentMetadata(document: unknown): ClientMetadata {
  const metadata = parseClientMetadata(document);
  return { ...metadata, token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] };
}
