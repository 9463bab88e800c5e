import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A certificate and its private key, as PEM files. */
export interface CertificateFiles {
  readonly cert: string;
  readonly key: string;
}

/** Throwaway certificates for TLS tests, made with `openssl` under a temporary directory. */
export interface TestPki {
  readonly dir: string;
  /** The test CA: signs `server` and `client`. */
  readonly ca: CertificateFiles;
  /** A server certificate for the names given (by default `localhost`), signed by `ca`. */
  readonly server: CertificateFiles;
  /** A client certificate (CN `client`), signed by `ca`. */
  readonly client: CertificateFiles;
  /** Another CA, which signed nothing here: the wrong one to trust. */
  readonly otherCa: CertificateFiles;
  /** A client certificate signed by `otherCa`: a broker trusting `ca` refuses it. */
  readonly strangerClient: CertificateFiles;
  /** A self-signed server certificate for the same names: signed by no CA at all. */
  readonly selfSigned: CertificateFiles;
  /** Removes the directory. */
  dispose(): Promise<void>;
}

/** What `createTestPki` makes, beyond the defaults. */
export interface PkiOptions {
  /** DNS names of the server certificate. @default ['localhost'] */
  readonly serverNames?: readonly string[];
}

async function openssl(dir: string, args: readonly string[]): Promise<void> {
  try {
    await run('openssl', [...args], { cwd: dir, timeout: 30_000 });
  } catch (err) {
    throw new Error(`openssl ${args.join(' ')} failed (the TLS tests need openssl): ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** EC keys: made in milliseconds, and every TLS stack here takes them. */
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function selfSignedCa(dir: string, name: string, cn: string): Promise<CertificateFiles> {
  const files = { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
  await openssl(dir, [
    'req',
    '-x509',
    ...NEW_KEY,
    '-keyout',
    files.key,
    '-out',
    files.cert,
    '-days',
    '2',
    '-subj',
    `/CN=${cn}`,
  ]);
  return files;
}

async function signed(
  dir: string,
  name: string,
  cn: string,
  issuer: CertificateFiles,
  extensions: readonly string[],
): Promise<CertificateFiles> {
  const files = { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
  const csr = path.join(dir, `${name}.csr`);
  const ext = path.join(dir, `${name}.ext`);
  await writeFile(ext, `${extensions.join('\n')}\n`);
  await openssl(dir, ['req', '-new', ...NEW_KEY, '-keyout', files.key, '-out', csr, '-subj', `/CN=${cn}`]);
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    issuer.cert,
    '-CAkey',
    issuer.key,
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-days',
    '2',
    '-out',
    files.cert,
    '-extfile',
    ext,
  ]);
  return files;
}

/** Makes a CA, a server and a client certificate it signs, and the wrong ones to test refusals. */
export async function createTestPki(options: PkiOptions = {}): Promise<TestPki> {
  const names = options.serverNames ?? ['localhost'];
  const san = `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`;
  const dir = await mkdtemp(path.join(tmpdir(), 'hello-rabbit-pki-'));
  try {
    const ca = await selfSignedCa(dir, 'ca', 'hello-rabbit test CA');
    const otherCa = await selfSignedCa(dir, 'other-ca', 'hello-rabbit other CA');
    const server = await signed(dir, 'server', names[0] ?? 'localhost', ca, [san, 'extendedKeyUsage=serverAuth']);
    const client = await signed(dir, 'client', 'client', ca, ['extendedKeyUsage=clientAuth']);
    const strangerClient = await signed(dir, 'stranger-client', 'stranger', otherCa, ['extendedKeyUsage=clientAuth']);
    const selfSigned = { cert: path.join(dir, 'self-signed.pem'), key: path.join(dir, 'self-signed.key') };
    await openssl(dir, [
      'req',
      '-x509',
      ...NEW_KEY,
      '-keyout',
      selfSigned.key,
      '-out',
      selfSigned.cert,
      '-days',
      '2',
      '-subj',
      `/CN=${names[0] ?? 'localhost'}`,
      '-addext',
      san,
    ]);
    return {
      dir,
      ca,
      server,
      client,
      otherCa,
      strangerClient,
      selfSigned,
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
