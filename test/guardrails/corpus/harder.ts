/**
 * Harder cases, written to probe the detectors' edges rather than their happy paths: formats they do not support
 * (counted as misses), and negatives that share their shapes (random digit runs that happen to pass Luhn, four-part
 * versions that parse as addresses). These keep the measured numbers honest.
 */
import { L, docSample, negative, t, textSample, type Sample } from './build.js';
import * as g from './generate.js';
import type { Rng } from './generate.js';

type Gen = (r: Rng) => Sample;

const positives: Gen[] = [
  (r) => textSample('url', t`GET /unsubscribe?email=${L('pii.email', g.email(r).replace('@', '%40'))} 302`),
  (r) => textSample('prose', t`Write to ${L('pii.email', `${r.pick(['o', 'd'])}'${r.pick(['brien', 'angelo'])}@example.ie`)} for details.`),
  (r) => textSample('prose', t`Ruf mich an: ${L('pii.phone', `0049 30 ${r.digits(8)}`)}`),
  (r) => textSample('prose', t`Zentrale ${L('pii.phone', `+49 (0)30 ${r.digits(7)}`)}`),
  (r) => textSample('prose', t`ext. ${L('pii.phone', `555-${r.digits(4)}`)} at the front desk`),
  (r) => textSample('prose', t`Tel. ${L('pii.phone', `+353 1 ${r.digits(3)} ${r.digits(4)}`)}`),
  (r) => textSample('json', t`{"iban": "${L('pii.iban', g.iban(r).spaced.toLowerCase())}"}`),
  (r) => textSample('prose', t`card: ${L('pii.card', g.card(r).digits.replace(/(\d{4})/g, '$1.').replace(/\.$/, ''))}`),
  (r) => textSample('log', t`peer=[::ffff:${L('pii.ip', g.publicIpv4(r))}]:443`),
  (r) => textSample('log', t`client ${L('pii.ip', g.publicIpv6(r).toUpperCase())} connected`),
  (r) => textSample('env', t`PGPASSWORD=${L('secret.generic', `${r.pick(['hunter', 'letmein', 'qwerty'])}${r.int(10, 99)}`)}`),
  (r) => textSample('code', t`headers["x-api-key"] = "${L('secret.generic', g.genericSecret(r))}"`),
  (r) => docSample('tool-args', { tool: 'login', arguments: { user: 'ops', pass: L('secret.generic', g.genericSecret(r)) } }),
  (r) => textSample('config', t`mongodb+srv://admin:${L('secret.url_credential', g.token(r, 20))}@cluster0.abcde.mongodb.net/prod`),
];

const negatives: Gen[] = [
  (r) => negative('log', `consumer lag partition=3 offset=${r.int(1, 9)}${r.digits(15)} seq=${r.int(3, 6)}${r.digits(15)}`),
  (r) => negative('json', { trace: { spanId: `${r.int(3, 6)}${r.digits(15)}`, parent: `${r.int(3, 6)}${r.digits(18)}` } }),
  (r) => negative('code', `[assembly: AssemblyVersion("${r.int(1, 9)}.${r.int(0, 9)}.${r.int(0, 9)}.0")]\n<FileVersion>${r.int(1, 9)}.${r.int(0, 9)}.${r.int(0, 9)}.${r.int(1, 99)}</FileVersion>`),
  (r) => negative('prose', `Please upgrade to ${r.int(2, 9)}.${r.int(0, 9)}.${r.int(0, 9)}.${r.int(1, 20)} before Friday.`),
  () => negative('pem', '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----'),
  () => negative('config', 'url: postgres://user:password@localhost:5432/app\nsmtp: smtp://mailer@smtp.example.com:587\nhttps://example.com/search?q=tokens&key=sort_by_date'),
  () => negative('http', 'WWW-Authenticate: Bearer realm="api", error="invalid_token"\nAuthorization: Bearer ${ACCESS_TOKEN}\nAuthorization: Bearer <token>'),
  (r) => negative('json', { publishableKey: `pk_live_${g.token(r, 24)}`, public_key: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${g.token(r, 43)} ops@bastion`, session_id: g.token(r, 24) }),
  () => negative('config', 'steps:\n  - run: npm publish\n    env:\n      NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n      password: !vault |'),
  () => negative('json', { tokenizer: 'cl100k_base', special_tokens: { eos: '<|endoftext|>' }, usage: { input_tokens: 1234, output_tokens: 567 } }),
  (r) => negative('prose', `Masked card **** **** **** ${r.digits(4)}, last four ${r.digits(4)}; reference ${r.digits(3)}-${r.digits(3)}-${r.digits(4)}.`),
  (r) => negative('log', `build ${r.int(2020, 2025)}.${r.int(1, 12)}.${r.int(1, 28)}.${r.int(1, 999)} pipeline #${r.int(1000, 99999)} took 12:30 min, cache key ${g.sha256(r).slice(0, 20)}`),
  (r) => negative('prose', `Room ${r.int(100, 999)}, floor ${r.int(1, 40)}; call extension ${r.int(1000, 9999)}; fax queue ${r.int(10, 99)}.`),
  () => negative('code', 'ssh git@github.com:acme/infra.git && scp deploy@10.0.0.5:/var/log/app.log . && docker pull acme/api@sha256'),
];

export function harder(rng: Rng, n: number): Sample[] {
  const out: Sample[] = [];
  for (let k = 0; k < n; k++) {
    for (const gen of positives) out.push(gen(rng));
    for (const gen of negatives) out.push(gen(rng));
  }
  return out;
}
