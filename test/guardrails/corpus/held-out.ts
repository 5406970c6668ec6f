/**
 * A held-out set, written after the detectors were tuned on the other corpus files and not tuned against afterwards:
 * new contexts and formats, some the detectors are known not to support. Its numbers are printed separately.
 */
import { L, N, docSample, negative, t, textSample, type Sample } from './build.js';
import * as g from './generate.js';
import type { Rng } from './generate.js';

type Gen = (r: Rng) => Sample;

/** EAN-13 with a valid EAN check digit (weights 1,3), German prefix 400–440. */
function ean13(r: Rng): string {
  const body = String(r.int(400, 440)) + r.digits(9);
  const sum = [...body].reduce((s, d, k) => s + Number(d) * (k % 2 === 0 ? 1 : 3), 0);
  return body + String((10 - (sum % 10)) % 10);
}

const positives: Gen[] = [
  (r) => textSample('html', t`<li>${L('pii.email', `${r.pick(['jane_doe-99', 'ops.team', 'x.y'])}@example.travel`)}</li>`),
  () => textSample('prose', t`Schreib an ${L('pii.email', 'josé.garcía@example.es')} bitte.`),
  (r) => textSample('env', t`ALERT_EMAILS=${L('pii.email', g.email(r))};${L('pii.email', g.email(r))}`),
  (r) => textSample('prose', t`Call ${L('pii.phone', `+1.${g.usNumber(r).join('.')}`)} or ${L('pii.phone', `${g.usNumber(r)[0]} ${r.int(200, 999)}-${r.digits(4)}`)}.`),
  (r) => textSample('prose', t`London office ${L('pii.phone', `+44 (0) 20 ${r.digits(4)} ${r.digits(4)}`)}, Tokyo ${L('pii.phone', `+81 3-${r.digits(4)}-${r.digits(4)}`)}`),
  (r) => textSample('prose', t`WhatsApp ${L('pii.phone', `+91 ${r.int(70000, 99999)} ${r.digits(5)}`)}; Sydney ${L('pii.phone', `(02) ${r.digits(4)} ${r.digits(4)}`)}`),
  (r) => textSample('prose', t`Portable : ${L('pii.phone', `06 ${r.digits(2)} ${r.digits(2)} ${r.digits(2)} ${r.digits(2)}`)}, freephone ${L('pii.phone', `0800 ${r.digits(3)} ${r.digits(4)}`)}`),
  (r) => docSample('json', { payment: { pan: N('pii.card', Number(g.luhnComplete('4' + r.digits(14)))), brand: 'visa' } }),
  (r) => textSample('prose', t`test cards: ${L('pii.card', g.luhnComplete('4242424242424' + r.digits(2)).replace(/(\d{4})(?=\d)/g, '$1-'))}, ${L('pii.card', g.card(r).formatted)}`),
  (r) => textSample('json', t`{"iban":"${L('pii.iban', g.iban(r).compact)}","bic":"NWBKGB2L"}`),
  (r) => textSample('prose', t`IBAN:${L('pii.iban', g.iban(r).compact)}`),
  (r) => textSample('form', t`SSN#: ${L('pii.ssn', g.ssn(r))}; ssn=${L('pii.ssn', g.ssn(r).replace(/-/g, ''))}`),
  (r) => textSample('log', t`IP Address: ${L('pii.ip', g.publicIpv4(r))} remote_addr="${L('pii.ip', g.publicIpv4(r))}" inet6 ${L('pii.ip', g.publicIpv6(r))}`),
  (r) => textSample('log', t`Client ${L('pii.ip', g.publicIpv4(r))} authenticated; upstream=${L('pii.ip', g.publicIpv4(r))}:443`),
  (r) => textSample('url', t`https://bucket.s3.amazonaws.com/x.pdf?AWSAccessKeyId=${L('secret.aws_access_key', g.awsAccessKeyId(r))}&Signature=${L('secret.url_credential', encodeURIComponent(g.genericSecret(r)))}&Expires=1715000000`),
  (r) => textSample('npmrc', t`//npm.pkg.github.com/:_authToken=${L('secret.github', g.githubToken(r), 'secret.generic')}`),
  (r) => textSample('yaml', t`slack_token: ${L('secret.slack', g.slackToken(r), 'secret.generic')}`),
  (r) => textSample('shell', t`curl https://api.stripe.com/v1/charges -u ${L('secret.stripe', g.stripeLive(r))}:`),
  (r) => textSample('xml', t`<string name="google_api_key">${L('secret.google_api_key', g.googleApiKey(r))}</string>`),
  (r) => textSample('yaml', t`tls:\n  key: |\n    ${L('secret.private_key', g.privateKeyBlock(r).replace(/\n/g, '\n    '))}`),
  (r) => textSample('url', t`https://app.example.com/cb#access_token=${L('secret.jwt', g.jwt(r), 'secret.url_credential', 'secret.generic')}&token_type=Bearer`),
  (r) => textSample('code', t`fetch(url, { headers: { authorization: 'Bearer ${L('secret.bearer', g.genericSecret(r))}' } })`),
  (r) => textSample('config', t`amqp://guest:${L('secret.url_credential', g.token(r, 14))}@rabbit:5672/ ftp://deploy:${L('secret.url_credential', g.token(r, 18))}@ftp.example.com`),
  (r) => textSample('env', t`OPENAI_API_KEY=${L('secret.generic', `sk-proj-${g.token(r, 48, g.B64URL)}`)}\nANTHROPIC_API_KEY=${L('secret.generic', `sk-ant-api03-${g.token(r, 80, g.B64URL)}`)}`),
  (r) => textSample('json', t`{"client_secret":"${L('secret.generic', `GOCSPX-${g.token(r, 28, g.B64URL)}`)}","webhookSecret":"${L('secret.generic', `whsec_${g.token(r, 32)}`)}"}`),
  (r) => textSample('code', t`db_pass = "${L('secret.generic', `P@ssw0rd${r.int(2000, 2030)}!`)}"\nSENDGRID_API_KEY=${L('secret.generic', `SG.${g.token(r, 22, g.B64URL)}.${g.token(r, 43, g.B64URL)}`)}`),
  (r) => textSample('json', t`{"accountSid": "AC${r.chars(g.HEX, 32)}", "authToken": "${L('secret.generic', r.chars(g.HEX, 32))}"}`),
  (r) => textSample('env', t`HEROKU_API_KEY=${L('secret.generic', g.uuid(r))}`),
];

const negatives: Gen[] = [
  () => negative('k8s', 'env:\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef: { name: db, key: password }\nsecretName: tls-cert'),
  () => negative('terraform', 'password = var.db_password\nmaster_password = random_password.db.result\napi_token = data.vault_generic_secret.api.data["token"]'),
  (r) => negative('docker', `FROM node:20.11.1-alpine@sha256:${g.sha256(r)}\nRUN npm ci --omit=dev`),
  (r) => negative('prose', `GA tracking id UA-${r.digits(8)}-1, measurement G-${r.chars(g.UPPER + g.DIGITS, 10)}; hex #${r.chars(g.HEX, 6)}`),
  (r) => negative('prose', `Total: 1 234 ${r.digits(3)},${r.digits(2)} € — EUR ${r.int(10, 99)}.${r.digits(3)}.${r.digits(3)},${r.digits(2)}`),
  (r) => negative('url', `https://maps.example.com/?lat=48.${r.digits(6)}&lon=11.${r.digits(6)}&zoom=12`),
  (r) => negative('retail', `EAN ${ean13(r)}, UPC 0${r.digits(11)}, ISBN-10 0-${r.digits(3)}-${r.digits(5)}-${r.int(0, 9)}`),
  (r) => negative('log', `elapsed=0:00:0${r.int(1, 9)}.${r.digits(6)} errno=-13 code=0x8007${r.chars(g.HEX, 4)} at 2024/05/01 12:30:45 ts=1715${r.digits(6)}.${r.digits(6)}`),
  () => negative('prose', 'Your password must be at least 12 characters long and contain 1 digit and 1 symbol; tokens expire after 15 minutes.'),
  (r) => negative('json', { choices: [{ logprobs: { content: [{ token: ' world', logprob: -0.12, bytes: [32, 119] }, { token: `Summer${r.digits(4)}`, logprob: -3.2 }] } }] }),
  () => negative('docs', 'Set SLACK_WEBHOOK_URL to https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX in your .env'),
  (r) => negative('docs', `Example: aws configure set aws_access_key_id AKIA${r.chars(g.UPPER + '234567', 9)}EXAMPLE`),
  (r) => negative('json', { api_key_id: `key_${g.token(r, 26)}`, secret_ref: 'vault://kv/prod/db#password', nonce: g.base64Blob(r, 22), signature: g.base64Blob(r, 42) }),
  (r) => negative('slack', `{"ts": "1715${r.digits(6)}.${r.digits(6)}", "thread_ts": "1715${r.digits(6)}.${r.digits(6)}", "user": "U${r.chars(g.UPPER + g.DIGITS, 10)}"}`),
];

export function heldOut(rng: Rng, n: number): Sample[] {
  const out: Sample[] = [];
  for (let k = 0; k < n; k++) {
    for (const gen of positives) out.push(gen(rng));
    for (const gen of negatives) out.push(gen(rng));
  }
  return out;
}
