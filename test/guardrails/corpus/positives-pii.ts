/** True positives for personal data, in the contexts a gateway sees: tool arguments, logs, e-mails, code, JSON. */
import { L, docSample, t, textSample, type Sample } from './build.js';
import { Rng, card, email, iban, phone, privateIpv4, publicIpv4, publicIpv6, ssn } from './generate.js';

type Template = (rng: Rng) => Sample;

const emailTemplates: Template[] = [
  (r) => textSample('json', t`{"to": "${L('pii.email', email(r))}", "subject": "Invoice 2024-0042", "body": "see attached"}`),
  (r) => textSample('email', t`From: Jane Doe <${L('pii.email', email(r))}>\nTo: ${L('pii.email', email(r))}\nSubject: Re: meeting`),
  (r) => textSample('log', t`2024-05-01T10:22:31.120Z INFO auth login ok user=${L('pii.email', email(r))} ip=${privateIpv4(r)} took=41ms`),
  (r) => textSample('prose', t`Please forward the signed contract to ${L('pii.email', email(r))} by Friday.`),
  (r) => textSample('code', t`const ADMIN_EMAIL = '${L('pii.email', email(r))}';`),
  (r) => textSample('html', t`<a href="mailto:${L('pii.email', email(r))}">Contact us</a>`),
  (r) => textSample('csv', t`42,John,Smith,${L('pii.email', email(r))},New York,NY`),
  (r) => docSample('tool-args', { tool: 'send_email', arguments: { recipients: [L('pii.email', email(r)), L('pii.email', email(r))], cc: [] } }),
  (r) => textSample('prose', t`My address is ${L('pii.email', email(r).toUpperCase())}.`),
];

const phoneTemplates: Template[] = [
  (r) => textSample('prose', t`Call me at ${L('pii.phone', phone(r, 'us'))} after 5pm.`),
  (r) => textSample('json', t`{"name": "Bob", "phone": "${L('pii.phone', phone(r, 'e164'))}"}`),
  (r) => textSample('email', t`Best regards,\nMaria\nTel.: ${L('pii.phone', phone(r, 'de'))}`),
  (r) => textSample('email', t`Kind regards, Oliver — mobile ${L('pii.phone', phone(r, 'uk'))}`),
  (r) => textSample('prose', t`Vous pouvez me joindre au ${L('pii.phone', phone(r, 'fr'))} demain.`),
  (r) => textSample('log', t`sms.send to=${L('pii.phone', phone(r, 'e164'))} status=queued provider=twilio`),
  (r) => docSample('tool-args', { tool: 'create_contact', arguments: { first: 'Ana', last: 'Lopez', mobile: L('pii.phone', phone(r, r.pick(['us', 'e164', 'uk', 'de', 'fr'] as const))) } }),
  (r) => textSample('csv', t`id,name,phone\n17,Jane,${L('pii.phone', phone(r, 'us'))}`),
  (r) => textSample('prose', t`Our office: ${L('pii.phone', phone(r, 'uk'))} (Mon–Fri).`),
  // Bare digit runs are phone numbers too, but indistinguishable from ids: counted against recall on purpose.
  (r) => textSample('json', t`{"contact_phone": "${L('pii.phone', `${r.int(2, 9)}${r.digits(9)}`)}"}`),
];

const cardTemplates: Template[] = [
  (r) => textSample('prose', t`Please charge my card ${L('pii.card', card(r).formatted)} exp 09/27.`),
  (r) => textSample('json', t`{"card_number": "${L('pii.card', card(r).formatted)}", "exp_month": 9, "exp_year": 2027}`),
  (r) => textSample('log', t`payment.create amount=4999 currency=usd pan=${L('pii.card', card(r).digits)} result=declined`),
  (r) => docSample('tool-args', { tool: 'checkout', arguments: { cart: 'c_8812', payment: { number: L('pii.card', card(r).formatted), cvc: '123' } } }),
  (r) => textSample('email', t`Hi, my new Visa is ${L('pii.card', card(r).formatted)}, can you update the subscription?`),
  (r) => textSample('code', t`test('charges', () => pay('${L('pii.card', card(r).digits)}'));`),
];

const ibanTemplates: Template[] = [
  (r) => textSample('email', t`Please transfer the deposit to IBAN ${L('pii.iban', iban(r).spaced)} (BIC COBADEFFXXX).`),
  (r) => textSample('json', t`{"beneficiary": "ACME GmbH", "iban": "${L('pii.iban', iban(r).compact)}"}`),
  (r) => docSample('tool-args', { tool: 'sepa_transfer', arguments: { to: L('pii.iban', iban(r).compact), amount: '120.00', reference: 'INV-2024-0042' } }),
  (r) => textSample('log', t`payout.created account=${L('pii.iban', iban(r).compact)} amount=120.00 EUR`),
  (r) => textSample('prose', t`Bankverbindung: ${L('pii.iban', iban(r).spaced)}`),
];

const ssnTemplates: Template[] = [
  (r) => textSample('prose', t`Employee SSN: ${L('pii.ssn', ssn(r))}`),
  (r) => textSample('json', t`{"name": "John Smith", "ssn": "${L('pii.ssn', ssn(r))}", "dob": "1980-04-12"}`),
  (r) => textSample('prose', t`His social security number is ${L('pii.ssn', ssn(r).replace(/-/g, ' '))}.`),
  (r) => textSample('csv', t`emp_id,name,tax_id\n1042,Jane Roe,${L('pii.ssn', ssn(r))}`),
  (r) => docSample('tool-args', { tool: 'run_background_check', arguments: { applicant: 'A. Person', ssn: L('pii.ssn', ssn(r).replace(/-/g, '')) } }),
  (r) => textSample('email', t`I filled in the W-2 with ${L('pii.ssn', ssn(r))} as requested.`),
];

const ipTemplates: Template[] = [
  (r) => textSample('log', t`${L('pii.ip', publicIpv4(r))} - - [01/May/2024:10:22:31 +0000] "GET /api/v1/items HTTP/1.1" 200 512 "-" "curl/8.4.0"`),
  (r) => textSample('log', t`sshd[2211]: Failed password for root from ${L('pii.ip', publicIpv4(r))} port 52211 ssh2`),
  (r) => textSample('json', t`{"client_ip": "${L('pii.ip', publicIpv4(r))}", "country": "DE"}`),
  (r) => textSample('log', t`X-Forwarded-For: ${L('pii.ip', publicIpv4(r))}, ${privateIpv4(r)}`),
  (r) => textSample('log', t`connect to [${L('pii.ip', publicIpv6(r))}]:443 failed: timeout`),
  (r) => textSample('prose', t`The attacker used ${L('pii.ip', publicIpv6(r))} and ${L('pii.ip', publicIpv4(r))}.`),
  (r) => docSample('tool-args', { tool: 'block_ip', arguments: { address: L('pii.ip', r.pick([publicIpv4(r), publicIpv6(r)])), reason: 'abuse' } }),
  (r) => textSample('log', t`upstream ${L('pii.ip', publicIpv4(r))}:8443 responded 502`),
];

/** `n` samples from each type's templates, cycling through them. */
export function piiPositives(rng: Rng, n: number): Sample[] {
  const out: Sample[] = [];
  for (const templates of [emailTemplates, phoneTemplates, cardTemplates, ibanTemplates, ssnTemplates, ipTemplates]) {
    for (let k = 0; k < n; k++) out.push((templates[k % templates.length] as Template)(rng));
  }
  return out;
}
