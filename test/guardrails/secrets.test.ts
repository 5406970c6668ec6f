import { describe, expect, test } from 'vitest';
import {
  awsAccessKeyDetector,
  awsSecretKeyDetector,
  bearerDetector,
  genericSecretDetector,
  githubTokenDetector,
  googleApiKeyDetector,
  jwtDetector,
  privateKeyDetector,
  slackTokenDetector,
  slackWebhookDetector,
  stripeDetector,
  stripeTestDetector,
  urlCredentialDetector,
} from '../../guardrails/index.js';
import * as g from './corpus/generate.js';
import { found, spanOf, spans } from './helpers.js';

// Every secret-looking value here is generated at test time.
const r = new g.Rng(7);
const akia = g.awsAccessKeyId(r);
const awsSecret = g.awsSecret(r);
const ghp = `ghp_${g.token(r, 36)}`;
const pat = g.githubPat(r);
const xoxb = `xoxb-${r.digits(12)}-${r.digits(13)}-${g.token(r, 24)}`;
const hook = g.slackWebhook(r);
const live = `sk_live_${g.token(r, 24)}`;
const testKey = `sk_test_${g.token(r, 24)}`;
const aiza = `AIza${g.token(r, 35, g.B64URL)}`;
const jwt = g.jwt(r);
const opaque = g.token(r, 32);

describe('prefixed tokens', () => {
  test('AWS access key ids: AKIA/ASIA + 16, exact offsets', () => {
    const text = `aws_access_key_id = ${akia}\n`;
    expect(spans(awsAccessKeyDetector, text)).toEqual([spanOf(text, akia)]);
    expect(found(awsAccessKeyDetector, `X${akia}`)).toEqual([]);
    expect(found(awsAccessKeyDetector, `${akia}Z`)).toEqual([]);
    expect(found(awsAccessKeyDetector, akia.slice(0, 19))).toEqual([]);
    expect(found(awsAccessKeyDetector, `AKIA${r.chars(g.UPPER, 9)}EXAMPLE`)).toEqual([]);
    expect(found(awsAccessKeyDetector, `AKIA${r.chars(g.LOWER, 16)}`)).toEqual([]);
  });
  test('GitHub: ghp_/gho_/ghu_/ghs_/ghr_ and github_pat_', () => {
    expect(found(githubTokenDetector, `token ${ghp} here`)).toEqual([ghp]);
    expect(found(githubTokenDetector, `GITHUB_TOKEN=${pat}`)).toEqual([pat]);
    expect(found(githubTokenDetector, ghp.slice(0, 30))).toEqual([]);
    expect(found(githubTokenDetector, `my_${ghp}`)).toEqual([]);
  });
  test('Slack tokens and webhooks', () => {
    expect(found(slackTokenDetector, `new WebClient('${xoxb}')`)).toEqual([xoxb]);
    expect(found(slackTokenDetector, 'xoxb-not-a-real-token-at-all')).toEqual([]);
    const text = `url: ${hook}\n`;
    expect(spans(slackWebhookDetector, text)).toEqual([spanOf(text, hook)]);
    expect(found(slackWebhookDetector, 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX')).toEqual([]);
    expect(found(slackWebhookDetector, 'see https://hooks.slack.com/services/ for docs')).toEqual([]);
  });
  test('Stripe: live keys are secret.stripe, test keys secret.stripe_test, publishable keys neither', () => {
    expect(found(stripeDetector, `Stripe('${live}')`)).toEqual([live]);
    expect(found(stripeDetector, testKey)).toEqual([]);
    expect(found(stripeTestDetector, testKey)).toEqual([testKey]);
    expect(stripeTestDetector.scan(testKey)[0]?.confidence).toBeLessThan(stripeDetector.scan(live)[0]?.confidence ?? 0);
    expect(found(stripeDetector, `pk_live_${g.token(r, 24)}`)).toEqual([]);
  });
  test('Google API keys: AIza + exactly 35', () => {
    expect(found(googleApiKeyDetector, `?key=${aiza}&q=1`)).toEqual([aiza]);
    expect(found(googleApiKeyDetector, `${aiza}x`)).toEqual([]);
    expect(found(googleApiKeyDetector, aiza.slice(0, 38))).toEqual([]);
  });
  test('private key blocks, from BEGIN to END, also when truncated', () => {
    const block = g.privateKeyBlock(r);
    const text = `key:\n${block}\nrest`;
    expect(spans(privateKeyDetector, text)).toEqual([spanOf(text, block)]);
    const cut = `-----BEGIN OPENSSH PRIVATE KEY-----\n${r.chars(g.B64, 70)}`;
    expect(spans(privateKeyDetector, cut)).toEqual([[0, cut.length]]);
    expect(found(privateKeyDetector, '-----BEGIN PGP PRIVATE KEY BLOCK-----\nabc\n-----END PGP PRIVATE KEY BLOCK-----').length).toBe(1);
    expect(found(privateKeyDetector, '-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----')).toEqual([]);
    expect(found(privateKeyDetector, '-----BEGIN CERTIFICATE-----')).toEqual([]);
  });
  test('JWTs: header must decode to JSON with alg', () => {
    const text = `Authorization: Bearer ${jwt}`;
    expect(spans(jwtDetector, text)).toEqual([spanOf(text, jwt)]);
    const [, payload, sig] = jwt.split('.');
    const noAlg = `${btoa('{"typ":"JWT"}').replace(/=+$/, '')}.${payload}.${sig}`;
    expect(found(jwtDetector, noAlg)).toEqual([]);
    expect(found(jwtDetector, `eyJhbGciOiJIUzI1NiJ9`)).toEqual([]);
    expect(found(jwtDetector, `x${jwt}`)).toEqual([]);
    expect(found(jwtDetector, `${jwt}.extra`)).toEqual([]);
  });
});

describe('context secrets', () => {
  test('AWS secret access keys next to their name, in text and as a member', () => {
    const text = `aws_secret_access_key = ${awsSecret}\n`;
    expect(spans(awsSecretKeyDetector, text)).toEqual([spanOf(text, awsSecret)]);
    expect(found(awsSecretKeyDetector, `{"SecretAccessKey": "${awsSecret}"}`)).toEqual([awsSecret]);
    expect(found(awsSecretKeyDetector, `other_key = ${awsSecret}`)).toEqual([]);
    expect(awsSecretKeyDetector.scanMember?.('AWS_SECRET_ACCESS_KEY', awsSecret)?.map((m) => [m.start, m.end])).toEqual([[0, 40]]);
    expect(awsSecretKeyDetector.scanMember?.('AWS_SECRET_ACCESS_KEY', 'short')).toEqual([]);
  });
  test.each([
    ['env', (v: string) => `SECRET=${v}`],
    ['shell export', (v: string) => `export API_KEY=${v}`],
    ['JSON', (v: string) => `{"api_key": "${v}"}`],
    ['YAML', (v: string) => `auth:\n  token: ${v}\n`],
    ['code', (v: string) => `client_secret = '${v}'`],
    ['header', (v: string) => `X-Api-Key: ${v}`],
    ['CLI flag', (v: string) => `--password=${v}`],
    ['PHP array', (v: string) => `'apiKey' => '${v}'`],
    ['Go', (v: string) => `authToken := "${v}"`],
    ['bracket access', (v: string) => `headers["x-api-key"] = "${v}"`],
    ['dotted name', (v: string) => `spring.datasource.password=${v}`],
  ])('generic: %s', (_name, make) => {
    const text = make(opaque);
    expect(spans(genericSecretDetector, text)).toEqual([spanOf(text, opaque)]);
  });
  test.each([
    ['UUID', `token: ${'550e8400-e29b-41d4-a716-446655440000'}`],
    ['hex hash', `secret = "${'a'.repeat(8)}${r.chars(g.HEX, 32)}"`],
    ['normal words', 'token: "your-api-token-goes-here"'],
    ['placeholder', 'password: ${DB_PASSWORD}'],
    ['template', 'api_key = "{{ .Values.key }}"'],
    ['stars', 'password: "********"'],
    ['reference', 'password = config.dbPassword'],
    ['not a secret name', `max_tokens=${opaque}`],
    ['token type', 'token_type: Bearer'],
    ['hash name', `password_hash: "${opaque}"`],
    ['public key', `public_key: ${opaque}`],
    ['short', 'api_key = "abc123"'],
    ['comparison', `if (token == "${opaque}")`],
    ['URL userinfo', `https://user:${opaque}@host.example.com`],
  ])('generic, not %s', (_name, text) => {
    expect(found(genericSecretDetector, text)).toEqual([]);
  });
  test('generic members: a secret name and a random value, or a password', () => {
    expect(genericSecretDetector.scanMember?.('clientSecret', opaque)?.map((m) => [m.start, m.end])).toEqual([[0, opaque.length]]);
    expect(genericSecretDetector.scanMember?.('password', 'Summer#2024ab')?.length).toBe(1);
    expect(genericSecretDetector.scanMember?.('password', 'password')).toEqual([]);
    expect(genericSecretDetector.scanMember?.('nextPageToken', opaque)).toEqual([]);
    expect(genericSecretDetector.scanMember?.('session_id', opaque)).toEqual([]);
  });
  test('bearer and basic credentials', () => {
    const text = `Authorization: Bearer ${opaque}\r\n`;
    expect(spans(bearerDetector, text)).toEqual([spanOf(text, opaque)]);
    const basic = btoa(`deploy:${opaque}`);
    expect(found(bearerDetector, `authorization: basic ${basic}`)).toEqual([basic]);
    for (const neg of ['Bearer <token>', 'Bearer ${TOKEN}', 'the bearer token must be sent', 'WWW-Authenticate: Bearer realm="api"', 'Basic authentication is disabled', `Bearer ${'a'.repeat(40)}`]) {
      expect(found(bearerDetector, neg), neg).toEqual([]);
    }
  });
  test('URL credentials: userinfo passwords and secret query parameters', () => {
    const text = `postgres://app:${opaque}@db.internal:5432/app`;
    expect(spans(urlCredentialDetector, text)).toEqual([spanOf(text, opaque)]);
    expect(found(urlCredentialDetector, `redis://:${opaque}@cache:6379`)).toEqual([opaque]);
    expect(found(urlCredentialDetector, `https://x.example/cb?state=1&access_token=${opaque}&y=2`)).toEqual([opaque]);
    expect(found(urlCredentialDetector, `GET /v1?api_key=${opaque}`)).toEqual([opaque]);
    for (const neg of ['postgres://user:password@localhost/db', 'https://user@example.com', 'http://host:8080/path', '?key=sort_by_date_desc', '?token=abc', `?code=${opaque}`, 'https://example.com/?q=access_token']) {
      expect(found(urlCredentialDetector, neg), neg).toEqual([]);
    }
  });
});
