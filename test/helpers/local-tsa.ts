/**
 * A local RFC 3161 Time-Stamping Authority for tests, made with openssl alone: a CA, a TSA
 * certificate for time stamping (extended key usage timeStamping, critical, as RFC 3161 §2.3
 * requires), and an HTTP server on 127.0.0.1 that answers `application/timestamp-query` with
 * `openssl ts -reply` (RFC 3161 §3.4).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LocalTsa {
  readonly url: string;
  /** The CA certificate that issued the TSA's certificate (PEM file): what a verifier trusts. */
  readonly caFile: string;
  /** Requests answered. */
  readonly answered: () => number;
  close(): Promise<void>;
}

const ssl = (dir: string, args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** Starts the TSA; `close` stops it and removes its folder. */
export async function startLocalTsa(): Promise<LocalTsa> {
  const dir = mkdtempSync(join(tmpdir(), 'st-tsa-'));
  ssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=Test TSA CA',
  ]);
  writeFileSync(
    join(dir, 'tsa.ext'),
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n',
  );
  ssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'tsa.key',
    '-out',
    'tsa.csr',
    '-subj',
    '/CN=Test TSA',
  ]);
  ssl(dir, [
    'x509',
    '-req',
    '-in',
    'tsa.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'tsa.pem',
    '-days',
    '2',
    '-extfile',
    'tsa.ext',
  ]);
  writeFileSync(
    join(dir, 'tsa.cnf'),
    [
      '[ tsa ]',
      'default_tsa = tsa_config',
      '[ tsa_config ]',
      `dir = ${dir}`,
      'serial = $dir/serial',
      'signer_cert = $dir/tsa.pem',
      'signer_key = $dir/tsa.key',
      'signer_digest = sha256',
      'default_policy = 1.3.6.1.4.1.99999.1',
      'digests = sha256, sha384, sha512',
      'accuracy = secs:1',
      'ess_cert_id_alg = sha256',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'serial'), '01\n');
  let answered = 0;
  let n = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.headers['content-type'] !== 'application/timestamp-query') {
        res.writeHead(415).end();
        return;
      }
      const id = n++;
      const query = join(dir, `q${id}.tsq`);
      const reply = join(dir, `r${id}.tsr`);
      writeFileSync(query, Buffer.concat(chunks));
      try {
        ssl(dir, ['ts', '-reply', '-config', join(dir, 'tsa.cnf'), '-queryfile', query, '-out', reply]);
      } catch {
        res.writeHead(500).end();
        return;
      }
      answered++;
      res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(readFileSync(reply));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/tsa`,
    caFile: join(dir, 'ca.pem'),
    answered: () => answered,
    close: () =>
      new Promise<void>((resolve) =>
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        }),
      ),
  };
}
