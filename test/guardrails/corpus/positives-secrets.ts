/** True positives for secrets, generated at test time in each vendor's format, in realistic contexts. */
import { L, at, docSample, t, textSample, type Sample } from './build.js';
import * as g from './generate.js';
import type { Rng } from './generate.js';

type Template = (rng: Rng) => Sample;

const awsKey: Template[] = [
  (r) => textSample('config', t`[default]\naws_access_key_id = ${L('secret.aws_access_key', g.awsAccessKeyId(r))}\nregion = eu-west-1`),
  (r) => textSample('shell', t`export AWS_ACCESS_KEY_ID=${L('secret.aws_access_key', g.awsAccessKeyId(r))}`),
  (r) => docSample('tool-args', { tool: 'deploy', arguments: { credentials: { AccessKeyId: L('secret.aws_access_key', g.awsAccessKeyId(r)), Region: 'us-east-1' } } }),
  (r) => textSample('log', t`botocore.credentials: Found credentials in environment variables. key=${L('secret.aws_access_key', g.awsAccessKeyId(r))}`),
];

const awsSecret: Template[] = [
  (r) => textSample('config', t`[default]\naws_access_key_id = ${L('secret.aws_access_key', g.awsAccessKeyId(r))}\naws_secret_access_key = ${L('secret.aws_secret_key', g.awsSecret(r), 'secret.generic')}`),
  (r) => textSample('shell', t`AWS_SECRET_ACCESS_KEY=${L('secret.aws_secret_key', g.awsSecret(r), 'secret.generic')} terraform apply`),
  (r) => textSample('json', t`{"AccessKeyId": "${L('secret.aws_access_key', g.awsAccessKeyId(r))}", "SecretAccessKey": "${L('secret.aws_secret_key', g.awsSecret(r), 'secret.generic')}"}`),
  (r) => docSample('tool-args', { tool: 's3_upload', arguments: { aws_secret_access_key: L('secret.aws_secret_key', g.awsSecret(r), 'secret.generic'), bucket: 'reports' } }),
];

const github: Template[] = [
  (r) => textSample('shell', t`GITHUB_TOKEN=${L('secret.github', g.githubToken(r), 'secret.generic')} gh pr list`),
  (r) => textSample('shell', t`git clone https://x-access-token:${L('secret.github', g.githubToken(r), 'secret.url_credential')}@github.com/acme/api.git`),
  (r) => textSample('log', t`curl -H "Authorization: token ${L('secret.github', g.githubPat(r))}" https://api.github.com/user`),
  (r) => docSample('tool-args', { tool: 'configure', arguments: { github: { pat: L('secret.github', g.githubPat(r), 'secret.generic') } } }),
  (r) => textSample('prose', t`oops, I pasted my token ${L('secret.github', g.githubToken(r))} in the chat`),
];

const slack: Template[] = [
  (r) => textSample('code', t`const slack = new WebClient('${L('secret.slack', g.slackToken(r))}');`),
  (r) => textSample('shell', t`SLACK_BOT_TOKEN=${L('secret.slack', g.slackToken(r), 'secret.generic')}`),
  (r) => textSample('json', t`{"channel": "#alerts", "token": "${L('secret.slack', g.slackToken(r), 'secret.generic')}"}`),
];

const slackHook: Template[] = [
  (r) => textSample('config', t`alertmanager:\n  slack_api_url: ${L('secret.slack_webhook', g.slackWebhook(r))}`),
  (r) => textSample('shell', t`curl -X POST -d '{"text":"deploy done"}' ${L('secret.slack_webhook', g.slackWebhook(r))}`),
  (r) => docSample('tool-args', { tool: 'notify', arguments: { webhook: L('secret.slack_webhook', g.slackWebhook(r)), text: 'build failed' } }),
];

const stripe: Template[] = [
  (r) => textSample('code', t`const stripe = require('stripe')('${L('secret.stripe', g.stripeLive(r))}');`),
  (r) => textSample('shell', t`STRIPE_SECRET_KEY=${L('secret.stripe', g.stripeLive(r), 'secret.generic')}`),
  (r) => docSample('tool-args', { tool: 'refund', arguments: { api_key: L('secret.stripe', g.stripeLive(r), 'secret.generic'), charge: 'ch_3Nq' } }),
];

const stripeTest: Template[] = [
  (r) => textSample('code', t`stripe.api_key = "${L('secret.stripe_test', g.stripeTest(r), 'secret.generic')}"`),
  (r) => textSample('prose', t`use the test key ${L('secret.stripe_test', g.stripeTest(r))} for the sandbox`),
];

const google: Template[] = [
  (r) => textSample('url', t`https://maps.googleapis.com/maps/api/geocode/json?address=Berlin&key=${L('secret.google_api_key', g.googleApiKey(r), 'secret.url_credential')}`),
  (r) => textSample('code', t`const firebaseConfig = { apiKey: "${L('secret.google_api_key', g.googleApiKey(r), 'secret.generic')}", projectId: "demo" };`),
  (r) => docSample('tool-args', { tool: 'translate', arguments: { text: 'hello', key: L('secret.google_api_key', g.googleApiKey(r)) } }),
];

const privateKey: Template[] = [
  (r) => textSample('file', t`${L('secret.private_key', g.privateKeyBlock(r))}\n`),
  (r) => docSample('tool-args', { tool: 'write_file', arguments: { path: '/home/app/.ssh/id_ed25519', content: L('secret.private_key', g.privateKeyBlock(r)) } }),
  (r) => textSample('json', t`{"type": "service_account", "private_key": "${L('secret.private_key', g.privateKeyBlock(r).replace(/\n/g, '\\n'))}"}`),
];

const jwt: Template[] = [
  (r) => textSample('log', t`GET /api/me Authorization: Bearer ${L('secret.jwt', g.jwt(r), 'secret.bearer')}`),
  (r) => textSample('log', t`Set-Cookie: session=${L('secret.jwt', g.jwt(r))}; Path=/; HttpOnly`),
  (r) => docSample('tool-args', { tool: 'call_api', arguments: { id_token: L('secret.jwt', g.jwt(r)) } }),
  (r) => textSample('prose', t`here's the token from devtools: ${L('secret.jwt', g.jwt(r))}`),
];

const bearer: Template[] = [
  (r) => textSample('shell', t`curl -H 'Authorization: Bearer ${L('secret.bearer', g.genericSecret(r))}' https://api.example.com/v1/me`),
  (r) => textSample('log', t`> authorization: Bearer ${L('secret.bearer', `ya29.${g.token(r, 60, g.B64URL)}`)}`),
  (r) => textSample('http', t`Authorization: Basic ${L('secret.bearer', btoa(`svc-${r.pick(['deploy', 'ci', 'backup'])}:${g.genericSecret(r)}`))}`),
  (r) => docSample('tool-args', { tool: 'http_request', arguments: { url: 'https://api.example.com', headers: { Authorization: L('secret.bearer', `Bearer ${g.genericSecret(r)}`) } } }),
];

const urlCred: Template[] = [
  (r) => textSample('config', t`DATABASE_URL=postgres://app:${L('secret.url_credential', g.token(r, r.int(12, 24)))}@db.internal:5432/app`),
  (r) => textSample('log', t`fetching https://api.example.com/v2/export?access_token=${L('secret.url_credential', g.genericSecret(r), 'secret.generic')}&format=csv`),
  (r) => textSample('log', t`GET /callback?state=af0ifjsldkj&api_key=${L('secret.url_credential', g.genericSecret(r), 'secret.generic')} 200`),
  (r) => textSample('code', t`redis.connect("redis://:${L('secret.url_credential', g.token(r, 32))}@cache.example.com:6379/0")`),
  (r) => docSample('tool-args', { tool: 'fetch', arguments: { url: at('https://files.example.com/report.pdf?token=', L('secret.url_credential', g.genericSecret(r), 'secret.generic')) } }),
];

const generic: Template[] = [
  (r) => textSample('shell', t`export DB_PASSWORD=${L('secret.generic', g.password(r))}`),
  (r) => textSample('json', t`{"service": "billing", "api_key": "${L('secret.generic', g.genericSecret(r))}"}`),
  (r) => textSample('config', t`database:\n  user: app\n  password: ${L('secret.generic', g.password(r))}\n  host: db`),
  (r) => textSample('code', t`client_secret = "${L('secret.generic', g.genericSecret(r))}"`),
  (r) => textSample('env', t`SECRET=${L('secret.generic', g.genericSecret(r))}\nPORT=8080`),
  (r) => textSample('config', t`auth:\n  token: ${L('secret.generic', g.genericSecret(r))}`),
  (r) => docSample('tool-args', { tool: 'create_user', arguments: { username: 'jdoe', password: L('secret.generic', g.password(r)) } }),
  (r) => docSample('tool-args', { tool: 'connect', arguments: { host: 'db.example.com', clientSecret: L('secret.generic', g.genericSecret(r)) } }),
  (r) => textSample('http', t`X-API-Key: ${L('secret.generic', g.genericSecret(r))}`),
  (r) => textSample('code', t`spring.datasource.password=${L('secret.generic', g.password(r))}`),
];

export function secretPositives(rng: Rng, n: number): Sample[] {
  const out: Sample[] = [];
  const groups = [awsKey, awsSecret, github, slack, slackHook, stripe, stripeTest, google, privateKey, jwt, bearer, urlCred, generic];
  for (const templates of groups) {
    for (let k = 0; k < n; k++) out.push((templates[k % templates.length] as Template)(rng));
  }
  return out;
}
