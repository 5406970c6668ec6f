import { describe, expect, test } from 'vitest';
import { cardDetector, emailDetector, ibanDetector, ipDetector, phoneDetector, ssnDetector } from '../../guardrails/index.js';
import { found, spanOf, spans } from './helpers.js';

describe('pii.email', () => {
  test('finds addresses with exact offsets', () => {
    const text = 'Mail alice.smith+news@mail.example.co.uk, or BOB@EXAMPLE.ORG.';
    expect(spans(emailDetector, text)).toEqual([spanOf(text, 'alice.smith+news@mail.example.co.uk'), spanOf(text, 'BOB@EXAMPLE.ORG')]);
    expect(emailDetector.scan(text)[0]).toMatchObject({ type: 'pii.email', confidence: 0.95 });
  });
  test('in JSON, HTML, mailto and URL-encoded forms', () => {
    expect(found(emailDetector, '{"to":"ops@acme.io"}')).toEqual(['ops@acme.io']);
    expect(found(emailDetector, '<a href="mailto:jane@example.com">')).toEqual(['jane@example.com']);
    expect(found(emailDetector, '?email=jane.doe%40example.com&x=1')).toEqual(['jane.doe%40example.com']);
    expect(found(emailDetector, 'écris à josé@example.es')).toEqual(['josé@example.es']);
  });
  test('not scp addresses, retina images, package versions, URL userinfo, bare hosts', () => {
    for (const text of ['git@github.com:org/repo.git', 'logo@2x.png', 'react@18.2.0', '@scope/pkg@1.0.0', 'https://bob:pw@db.example.com/x', 'ssh://deploy@host.example.com', 'user@localhost', 'a@b.c', '@mention', 'x..y@example.com']) {
      expect(found(emailDetector, text), text).toEqual([]);
    }
  });
});

describe('pii.phone', () => {
  test.each([
    ['US parentheses', 'Call (415) 555-0132 now', '(415) 555-0132'],
    ['US dashes', 'phone: 415-555-0132.', '415-555-0132'],
    ['US dots', 'tel 415.555.0132', '415.555.0132'],
    ['US space then dash', 'cell 415 555-0132', '415 555-0132'],
    ['US with 1', 'dial 1-800-555-0199', '1-800-555-0199'],
    ['E.164 compact', '"phone":"+14155550132"', '+14155550132'],
    ['E.164 grouped', 'Tel.: +44 20 7946 0018', '+44 20 7946 0018'],
    ['E.164 with (0)', 'Zentrale +49 (0)30 1234567', '+49 (0)30 1234567'],
    ['00 exit code', 'Ruf an: 0049 30 12345678', '0049 30 12345678'],
    ['UK London', 'office 020 7946 0018', '020 7946 0018'],
    ['UK mobile', 'mobile 07700 900123', '07700 900123'],
    ['DE', 'Tel. 030 12345678', '030 12345678'],
    ['DE slash', 'Fax 089/1234567', '089/1234567'],
    ['DE mobile dash', 'Handy 0151-23456789', '0151-23456789'],
    ['FR spaces', 'au 01 23 45 67 89 demain', '01 23 45 67 89'],
    ['FR dots', 'portable 06.12.34.56.78', '06.12.34.56.78'],
    ['AU parentheses', 'Sydney (02) 9876 5432', '(02) 9876 5432'],
    ['prefix of a longer run', 'call 415 555 0132 5 times', '415 555 0132'],
    ['bare number with phone context', '{"contact_phone": "4155550132"}', '4155550132'],
  ])('%s', (_name, text, expected) => {
    expect(found(phoneDetector, text)).toEqual([expected]);
  });
  test.each([
    ['timestamp with offset', '2024-05-01T12:00:00+02:00'],
    ['unix millis', 'ts=1715000000000'],
    ['version', 'version 1.2.3 and 10.0.19045.4291'],
    ['order id', 'Order no. 415-555-0132 shipped'],
    ['order prefix', 'ORD-415-555-0132'],
    ['inside a longer digit run', '1234155550132999'],
    ['bare digits without context', 'id 4155550132'],
    ['invalid NANP area', '123-456-7890'],
    ['date', '2024-05-01 and 01/05/2024'],
    ['IP address', '203.0.113.7'],
    ['card number', '4111 1111 1111 1111'],
    ['SSN shape with leading zero', 'SSN 017-91-2995'],
    ['IBAN groups', 'NL91 ABNA 0417 1643 00'],
    ['ISBN', 'ISBN 978-3-16-148410-0'],
    ['money', '$1,234,567.89'],
    ['plus in arithmetic', '1+4155550132'],
  ])('not %s', (_name, text) => {
    expect(found(phoneDetector, text)).toEqual([]);
  });
  test('member context: phone names accept bare numbers, identifier names veto', () => {
    expect(phoneDetector.scanMember?.('mobile', '+49 151 2345678')?.map((m) => [m.start, m.end])).toEqual([[0, 15]]);
    expect(phoneDetector.scanMember?.('phone', ' 4155550132 ')?.map((m) => [m.start, m.end])).toEqual([[1, 11]]);
    expect(phoneDetector.scanMember?.('order_no', '415-555-0132')).toEqual([]);
    expect(phoneDetector.scanMember?.('note', 'call 415-555-0132')?.length).toBe(1);
  });
});

describe('pii.card', () => {
  test.each([
    ['Visa grouped', 'card 4111 1111 1111 1111 exp 12/27', '4111 1111 1111 1111'],
    ['Visa dashes', 'pan=4111-1111-1111-1111;', '4111-1111-1111-1111'],
    ['Visa compact', '"number":"4111111111111111"', '4111111111111111'],
    ['Mastercard', 'MC 5555 5555 5555 4444', '5555 5555 5555 4444'],
    ['Mastercard 2-series', '2223003122003222', '2223003122003222'],
    ['Amex 4-6-5', 'amex 3782 822463 10005', '3782 822463 10005'],
    ['Amex compact', '378282246310005', '378282246310005'],
    ['Discover', '6011 1111 1111 1117', '6011 1111 1111 1117'],
    ['JCB', '3530111333300000', '3530111333300000'],
    ['dots', 'card 4111.1111.1111.1111', '4111.1111.1111.1111'],
    ['followed by CVV', '4111 1111 1111 1111 123', '4111 1111 1111 1111'],
  ])('%s', (_name, text, expected) => {
    expect(found(cardDetector, text)).toEqual([expected]);
  });
  test.each([
    ['Luhn failure', '4111 1111 1111 1112'],
    ['unknown issuer', '1234 5678 9012 3452'],
    ['longer digit run', '41111111111111110'],
    ['odd grouping', '41 1111 1111 1111 11'],
    ['mixed separators', '4111 1111-1111 1111'],
    ['EAN-13', 'EAN 4006381333931'],
    ['after an identifier word', 'invoice 4111111111111111'],
    ['IBAN digits', 'DE89 3704 0044 0532 0130 00'],
    ['nanosecond timestamp', '1715000000123456789'],
  ])('not %s', (_name, text) => {
    expect(found(cardDetector, text)).toEqual([]);
  });
  test('a member named like an identifier is vetoed', () => {
    expect(cardDetector.scanMember?.('order_id', '4111111111111111')).toEqual([]);
    expect(cardDetector.scanMember?.('card', '4111111111111111')?.length).toBe(1);
  });
});

describe('pii.iban', () => {
  test.each([
    ['spaced', 'IBAN DE89 3704 0044 0532 0130 00 (BIC)', 'DE89 3704 0044 0532 0130 00'],
    ['compact', '"iban":"GB82WEST12345698765432"', 'GB82WEST12345698765432'],
    ['letters in BBAN, spaced', 'NL91 ABNA 0417 1643 00', 'NL91 ABNA 0417 1643 00'],
    ['short country', 'NO9386011117947', 'NO9386011117947'],
    ['lower case', 'iban: de89 3704 0044 0532 0130 00', 'de89 3704 0044 0532 0130 00'],
    ['after a colon', 'IBAN:CH9300762011623852957', 'CH9300762011623852957'],
  ])('%s', (_name, text, expected) => {
    expect(found(ibanDetector, text)).toEqual([expected]);
  });
  test.each([
    ['bad checksum', 'DE89 3704 0044 0532 0130 01'],
    ['wrong length', 'DE89370400440532013000123'],
    ['unknown country', 'ZZ89370400440532013000'],
    ['glued to a word', 'XDE89370400440532013000'],
    ['uuid-like', 'de12-abcd-ef01-2345'],
  ])('not %s', (_name, text) => {
    expect(found(ibanDetector, text)).toEqual([]);
  });
});

describe('pii.ssn', () => {
  test('dashed form anywhere, spaced and compact with SSN context', () => {
    expect(found(ssnDetector, 'Employee 219-09-9999 joined')).toEqual(['219-09-9999']);
    expect(found(ssnDetector, 'SSN: 219 09 9999')).toEqual(['219 09 9999']);
    expect(found(ssnDetector, 'ssn=219099999')).toEqual(['219099999']);
    expect(ssnDetector.scan('SSN: 219-09-9999')[0]?.confidence).toBe(0.95);
  });
  test.each([['000-12-3456'], ['666-12-3456'], ['900-12-3456'], ['123-00-4567'], ['123-45-0000'], ['219 09 9999'], ['219099999'], ['219-09-99999'], ['1219-09-9999'], ['sku 219-09-9999'], ['219-09-9999-1']])('not %s', (text) => {
    expect(found(ssnDetector, text)).toEqual([]);
  });
  test('member names add or veto evidence', () => {
    expect(ssnDetector.scanMember?.('ssn', '219099999')?.map((m) => [m.start, m.end])).toEqual([[0, 9]]);
    expect(ssnDetector.scanMember?.('social_security_number', '219 09 9999')?.length).toBe(1);
    expect(ssnDetector.scanMember?.('sku', '219-09-9999')).toEqual([]);
  });
});

describe('pii.ip', () => {
  test.each([
    ['IPv4 in a log', '203.0.113.7 - - [01/May/2024] "GET /"', '203.0.113.7'],
    ['IPv4 with port', 'upstream 198.51.100.23:8443 failed', '198.51.100.23'],
    ['IPv4 after ip:', 'client ip:93.184.216.34', '93.184.216.34'],
    ['IPv4 end of sentence', 'from 8.8.4.4.', '8.8.4.4'],
    ['IPv6 compressed', 'inet6 2001:db8:85a3::8a2e:370:7334 scope', '2001:db8:85a3::8a2e:370:7334'],
    ['IPv6 full', '2606:4700:4700:0:0:0:0:1111', '2606:4700:4700:0:0:0:0:1111'],
    ['IPv6 bracketed with port', 'connect [2a00:1450:4001:81b::200e]:443', '2a00:1450:4001:81b::200e'],
    ['IPv4-mapped', '::ffff:203.0.113.9', '::ffff:203.0.113.9'],
    ['small octets with an address word', 'dns server 1.1.1.1', '1.1.1.1'],
  ])('%s', (_name, text, expected) => {
    expect(found(ipDetector, text)).toEqual([expected]);
  });
  test.each([
    ['private', '10.0.0.1 192.168.1.20 172.16.5.4'],
    ['loopback and unspecified', '127.0.0.1 0.0.0.0 ::1 ::'],
    ['link-local and ULA', '169.254.1.1 fe80::1ff:fe23:4567:890a fd12:3456:789a::1'],
    ['CGNAT and multicast', '100.64.1.1 224.0.0.1 ff02::1'],
    ['versions', 'version 1.2.3.4, v2.0.1.7, upgrade to 2.1.5.3'],
    ['network address', '203.0.113.0/24'],
    ['octet out of range', '256.1.1.1 1.2.3.999'],
    ['leading zeros', '010.001.001.001'],
    ['OID', '1.3.6.1.4.1.311'],
    ['times and MACs', '12:30:45 00:1a:2b:3c:4d:5e 10:20:30:40:50:60:70:80'],
    ['code', 'std::vector a::b dead::beef'],
    ['hashes', 'deadbeefcafebabe0123456789abcdef'],
  ])('not %s', (_name, text) => {
    expect(found(ipDetector, text)).toEqual([]);
  });
});
