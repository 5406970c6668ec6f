import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A PEM certificate and its unencrypted PEM private key. */
export interface TestCertificate {
  cert: string;
  key: string;
}

/**
 * Makes a self-signed P-256 certificate for 127.0.0.1 (and the given DNS names, `localhost` by default), valid for
 * one day, with the `openssl` CLI. The files live only for the duration of this call: the key is returned in memory
 * and the temporary directory is removed, so no key material is left on disk or committed.
 */
export function createTestCertificate(options: { dnsNames?: readonly string[] } = {}): TestCertificate {
  const dnsNames = options.dnsNames ?? ['localhost'];
  const altNames = [...dnsNames.map((name) => `DNS:${name}`), 'IP:127.0.0.1'].join(',');
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
        '-subj', `/CN=${dnsNames[0] ?? '127.0.0.1'}`, '-addext', `subjectAltName=${altNames}`,
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
