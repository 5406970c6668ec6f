/**
 * Hard negatives: what a gateway sees all day that looks like personal data or secrets but is not — ids, hashes,
 * timestamps, order numbers, images, code, logs, versions, prose. None of these may be reported.
 */
import { negative, type Sample } from './build.js';
import * as g from './generate.js';
import type { Rng } from './generate.js';

type Gen = (r: Rng) => Sample;

const ids: Gen[] = [
  (r) => negative('json', `{"id": "${g.uuid(r)}", "request_id": "${g.uuid(r)}", "status": "ok"}`),
  (r) => negative('log', `trace_id=${g.uuid(r).replace(/-/g, '')} span_id=${r.chars(g.HEX, 16)} correlation=${g.uuid(r)}`),
  (r) => negative('url', `GET /api/v1/users/${g.uuid(r)}/orders/${r.int(100000, 999999)} 200 12ms`),
  (r) => negative('json', { session: { id: g.uuid(r), token_type: 'Bearer', expires_in: 3600, scope: 'openid profile' } }),
  (r) => negative('json', { nextPageToken: g.base64Blob(r, 32).replace(/=+$/, ''), items: [], resultSizeEstimate: 0 }),
  (r) => negative('json', { idempotency_key: g.uuid(r), object_id: `obj_${r.chars(g.BASE62, 24)}` }),
  (r) => negative('log', `pod/api-${r.chars(g.HEX.slice(0, 10) + 'bcdf', 10)}-${r.chars('bcdfghjklmnpqrstvwxz2456789', 5)} Ready 1/1 Running 0 3d`),
];

const hashes: Gen[] = [
  (r) => negative('git', `commit ${g.sha1(r)}\nMerge: ${r.chars(g.HEX, 7)} ${r.chars(g.HEX, 7)}\nDate:   Wed May 1 10:22:31 2024 +0200`),
  (r) => negative('json', `{"sha256": "${g.sha256(r)}", "size": ${r.int(1000, 99999999)}}`),
  (r) => negative('config', `image: ghcr.io/acme/api@sha256:${g.sha256(r)}`),
  (r) => negative('json', `"integrity": "sha512-${g.base64Blob(r, 86)}"`),
  (r) => negative('http', `ETag: "${r.chars(g.HEX, 32)}"\nContent-MD5: ${g.base64Blob(r, 22)}`),
  (r) => negative('json', { password_hash: `$2b$12$${r.chars(g.BASE62 + './', 53)}`, password_updated_at: '2024-05-01T10:00:00Z' }),
  (r) => negative('json', { checksum: g.sha1(r), fingerprint: r.chars(g.HEX, 32).replace(/(..)(?!$)/g, '$1:'), key_id: `kid-${g.sha1(r).slice(0, 12)}` }),
  (r) => negative('code', `const EMPTY_SHA256 = '${g.sha256(r)}'; // token cache key`),
];

const times: Gen[] = [
  (r) => negative('log', `2024-05-${String(r.int(1, 28)).padStart(2, '0')}T${r.int(10, 23)}:${r.int(10, 59)}:${r.int(10, 59)}.${r.digits(3)}+02:00 INFO request served in ${r.int(1, 999)}ms`),
  (r) => negative('json', { created: 1_700_000_000 + r.int(0, 99_999_999), updated_ms: 1_700_000_000_000 + r.int(0, 999_999_999), ts_ns: `17${r.digits(17)}` }),
  (r) => negative('log', `[${r.int(10, 28)}/May/2024:${r.int(10, 23)}:${r.int(10, 59)}:${r.int(10, 59)} +0000] worker ${r.int(1, 64)} done, 2024 05 ${r.int(10, 28)} 12 30`),
  (r) => negative('prose', `The meeting moved to 2024-05-${r.int(10, 28)} at 14:30 CET (13:30 UTC), i.e. ${r.int(10, 12)}/${r.int(10, 28)}/2024.`),
];

const orders: Gen[] = [
  (r) => negative('prose', `Your order #${r.int(100000, 999999)} shipped. Order no. ${g.usNumber(r).join('-')}, tracking 1Z${r.chars(g.UPPER + g.DIGITS, 16)}.`),
  (r) => negative('json', { order_id: `ORD-2024-${r.digits(6)}`, invoice: `INV-${r.digits(4)}-${r.digits(4)}`, total: `${r.int(1, 999)}.${r.digits(2)}` }),
  (r) => negative('prose', `Ticket ${r.int(100, 999)}-${r.int(100, 999)}-${r.digits(4)} was escalated; ref ${r.digits(4)} ${r.digits(6)}.`),
  (r) => negative('json', { sku: `${r.digits(3)}-${r.digits(2)}-${r.digits(4)}`, item: r.digits(16).replace(/^[0-9]/, '1'), qty: r.int(1, 9) }),
  (r) => negative('prose', `ISBN 978-${r.int(0, 9)}-${r.digits(2)}-${r.digits(6)}-${r.int(0, 9)}; serial no. ${r.digits(4)} ${r.digits(6)}.`),
  (r) => negative('log', `invoice ${r.int(1, 9)}${r.digits(15)} settled, batch ${r.digits(4)}-${r.digits(4)}-${r.digits(4)}-${r.digits(4)}`),
];

const blobs: Gen[] = [
  (r) => negative('json', { type: 'image', mimeType: 'image/png', data: g.base64Blob(r, r.int(2000, 6000)) }),
  (r) => negative('html', `<img src="data:image/jpeg;base64,${g.base64Blob(r, r.int(1000, 4000))}" alt="chart">`),
  (r) => negative('json', { content: [{ type: 'resource', resource: { uri: 'file:///tmp/a.bin', blob: g.base64Blob(r, 3000) } }] }),
];

const code: Gen[] = [
  () => negative('code', `export async function login(email: string, password: string) {\n  const token = await getToken(email, password);\n  if (!token) throw new Error('invalid password');\n  return { token, expiresIn: 3600 };\n}`),
  () => negative('code', `def check_password(self, password):\n    return bcrypt.checkpw(password.encode(), self.password_hash)\n\nSECRET_KEY = os.environ["SECRET_KEY"]`),
  () => negative('code', `const apiKey = process.env.API_KEY;\nconst headers = { Authorization: \`Bearer \${apiKey}\` };\nx = a @ b  # matmul`),
  () => negative('code', `std::vector<int> v; auto it = std::find(v.begin(), v.end(), 42); Foo::bar::baz();`),
  () => negative('code', `password: string; // the user's password\napiToken?: string;\nsecret_key = config.secret_key\nprivate_key = load_key(path)`),
  () => negative('code', `if (x == 0x7fffffff && y != 0xdeadbeef) { mask = 0xffff; } // for i := 0; i < n; i++`),
  () => negative('code', `"scripts": { "build": "tsc -p tsconfig.json", "test": "vitest run" }, "dependencies": { "react": "^18.2.0", "@types/node": "20.11.5" }`),
  () => negative('code', `import logo from './assets/logo@2x.png';\n@Component({ selector: 'app-root' })\nnpm i lodash@4.17.21 @scope/pkg@1.0.0-beta.3`),
  () => negative('schema', { name: 'login', inputSchema: { type: 'object', properties: { username: { type: 'string' }, password: { type: 'string', format: 'password', minLength: 12 }, api_key: { type: 'string', description: 'Your API key' } }, required: ['username', 'password'] } }),
  () => negative('code', `const PASSWORD_MIN_LENGTH = 12;\nconst TOKEN_TTL_SECONDS = 3600;\nlet token_count = 0, max_tokens = 4096;`),
  () => negative('config', `password: \${DB_PASSWORD}\napi_key: <your-api-key-here>\ntoken: changeme\nsecret: "********"\nclient_secret: {{ .Values.clientSecret }}`),
];

const logs: Gen[] = [
  (r) => negative('log', `${g.privateIpv4(r)} - - [01/May/2024:10:22:31 +0000] "POST /v1/messages HTTP/1.1" 200 ${r.int(100, 9999)} "-" "python-requests/2.31.0" rt=0.${r.digits(3)}`),
  (r) => negative('log', `level=info msg="listening" addr=0.0.0.0:8080 pid=${r.int(100, 99999)} go=go1.22.3 version=v${r.int(0, 3)}.${r.int(0, 20)}.${r.int(0, 9)}`),
  (r) => negative('log', `GC pause ${r.int(1, 9)}.${r.digits(3)}ms heap=${r.int(100, 999)}MB->${r.int(100, 999)}MB took 415.555ms (p99 1.2.3)`),
  (r) => negative('log', `connection from 192.168.${r.int(0, 255)}.${r.int(1, 254)}:${r.int(1024, 65535)} to 10.0.${r.int(0, 255)}.${r.int(1, 254)}; route 10.0.0.0/8 via 172.17.0.1; dns 127.0.0.53; [::1]:5432`),
  (r) => negative('log', `mac=00:1a:2b:${r.chars(g.HEX, 2)}:${r.chars(g.HEX, 2)}:${r.chars(g.HEX, 2)} link fe80::${r.chars(g.HEX, 4)}:${r.chars(g.HEX, 4)} up, uptime 12:30:45`),
  (r) => negative('log', `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0.${r.int(1000, 9999)}.${r.int(10, 99)} Safari/537.36`),
];

const versions: Gen[] = [
  (r) => negative('prose', `Upgrade from version ${r.int(1, 9)}.${r.int(0, 9)}.${r.int(0, 9)}.${r.int(0, 99)} to v${r.int(1, 9)}.${r.int(0, 20)}.${r.int(0, 9)} (build ${r.int(1000, 9999)}).`),
  (r) => negative('json', { node: `v20.${r.int(0, 15)}.${r.int(0, 9)}`, os: `Windows 10.0.19045.${r.int(1000, 4999)}`, oid: `1.3.6.1.4.1.${r.int(100, 9999)}.1.2` }),
];

const prose: Gen[] = [
  () => negative('prose', 'To reset your password, open Settings › Security and choose "Forgot password". The link expires after 24 hours.'),
  () => negative('prose', 'The access token is short-lived; use the refresh token to get a new one. Never paste your API key into a chat.'),
  () => negative('prose', 'Call us at the number printed on the back of your card, or write to our support team via the contact form.'),
  () => negative('prose', 'We processed 1,234,567 requests (99.95% success) across 12 regions; p50 latency 41 ms, $4,321.00 cost.'),
  () => negative('prose', 'Meet me at 37.7749, -122.4194 — or at gate B12. The key: bring the secret sauce recipe, not the password.'),
  () => negative('prose', 'The bearer of this letter, Mr. Basic, is authorized. Token economies and secret santa draws are popular at offices.'),
];

export function negatives(rng: Rng, n: number): Sample[] {
  const out: Sample[] = [];
  for (const gens of [ids, hashes, times, orders, blobs, code, logs, versions, prose]) {
    for (let k = 0; k < n; k++) out.push((gens[k % gens.length] as Gen)(rng));
  }
  return out;
}
