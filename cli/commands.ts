/**
 * The CLI commands: each parses its options, calls one use case, prints the outcome (text on a
 * terminal, or JSON with --json). Long work reports progress on stderr when it is a terminal.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SessiontrailError } from '../lib/errors.ts';
import type { PackKind } from '../lib/evidence/model.ts';
import { type ExportRequest, type ProblemPlace, validateRequest } from '../lib/evidence/request.ts';
import { type ExportResult, exportEvidence } from '../lib/export/export-evidence.ts';
import { rederiveEvidence } from '../lib/export/rederive-evidence.ts';
import { checkLocalPaths } from '../lib/locate/local-sources.ts';
import { stageLocalFolder } from '../lib/locate/record-staging.ts';
import { createRawTables, rawTableStatements } from '../lib/locate/trino-tables.ts';
import { TrinoEngine } from '../lib/query/trino/trino-engine.ts';
import { fingerprint, generateKeyPair } from '../lib/signing/keygen.ts';
import { KmsSigner } from '../lib/signing/kms-signer.ts';
import { parseTrustFile, type VerifyResult, verifyPack } from '../lib/signing/verify-pack.ts';
import { verifySeries } from '../lib/signing/verify-series.ts';
import { SOURCE_NAMES, SOURCES } from '../lib/sources/index.ts';
import { OCSF_JSON_TABLE } from '../lib/sources/ocsf-raw-table.ts';
import type { RawTableSpec } from '../lib/sources/raw-table.ts';
import type { EvidenceStore } from '../lib/storage/evidence-store.ts';
import { FsEvidenceStore } from '../lib/storage/fs-evidence-store.ts';
import { S3EvidenceStore } from '../lib/storage/s3-evidence-store.ts';
import { generateSamples, SAMPLE_KINDS, type SampleKind } from '../sample/samples.ts';
import { type EngineChoice, localDeps, rederiveDeps } from './deps.ts';

interface Common {
  readonly json?: boolean;
}

const out = (text: string) => process.stdout.write(`${text}\n`);
const progress = (json: boolean | undefined) =>
  process.stderr.isTTY && !json ? (step: string) => process.stderr.write(`\r\x1b[K… ${step}`) : undefined;
const endProgress = (json: boolean | undefined) => {
  if (process.stderr.isTTY && !json) process.stderr.write('\r\x1b[K');
};

export async function runKeygen(opts: Common & { key: string }): Promise<void> {
  const key = await generateKeyPair(opts.key);
  if (opts.json) {
    out(
      JSON.stringify({
        key: resolve(opts.key),
        key_id: key.keyId,
        fingerprint: fingerprint(key.publicKeyPem),
      }),
    );
    return;
  }
  out(`wrote private key ${resolve(opts.key)} (keep it secret; it is never committed)`);
  out(`key id      ${key.keyId}`);
  out(`fingerprint ${fingerprint(key.publicKeyPem)}`);
}

export async function runSample(
  opts: Common & { out: string; hosts: number; days: number; seed: number; from: string; source: string[] },
): Promise<void> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(opts.from) || Number.isNaN(Date.parse(opts.from))) {
    throw new SessiontrailError(
      'BAD_REQUEST',
      `--from must be a day YYYY-MM-DD, received ${JSON.stringify(opts.from)}`,
    );
  }
  const kinds = (opts.source.length > 0 ? opts.source : [...SAMPLE_KINDS]) as SampleKind[];
  const result = await generateSamples({
    kinds,
    seed: opts.seed,
    hosts: opts.hosts,
    days: opts.days,
    from: opts.from,
    outDir: opts.out,
  });
  if (opts.json) {
    out(JSON.stringify({ ...result, out: resolve(opts.out) }));
    return;
  }
  for (const o of result.outcomes)
    out(`${o.kind.padEnd(11)} ${o.files} files; ground truth ${o.groundTruthPath}`);
  out(`under ${resolve(opts.out)}; window ${result.window.from} .. ${result.window.to}`);
}

/** The export flag of each request field, so that a refusal names what the user typed. */
const FLAGS: Readonly<Record<keyof ExportRequest, string>> = {
  kind: '--kind',
  from: '--from',
  to: '--to',
  sources: '--source',
  users: '--user',
  hosts: '--host',
  incidentId: '--incident-id',
  requester: '--requester',
  reason: '--reason',
  controlReference: '--control-reference',
  series: '--series',
  allowEmpty: '--allow-empty',
};

const flagOf: ProblemPlace = (path) => FLAGS[path[0] as keyof ExportRequest] ?? path.join('.');

export async function runExport(
  opts: Common & {
    kind: PackKind;
    from: string;
    to: string;
    logs?: string;
    out: string;
    source: string[];
    user: string[];
    host: string[];
    incidentId?: string;
    requester?: string;
    reason?: string;
    controlReference?: string;
    series?: string;
    config?: string;
    key: string;
    threads?: number;
    memoryLimit?: string;
    allowEmpty?: boolean;
    maxFileMib?: number;
    tsaUrl?: string;
  } & TrinoOptions,
): Promise<void> {
  const request: ExportRequest = {
    kind: opts.kind,
    from: opts.from,
    to: opts.to,
    ...(opts.source.length ? { sources: opts.source } : {}),
    users: opts.user,
    hosts: opts.host,
    ...(opts.incidentId ? { incidentId: opts.incidentId } : {}),
    ...(opts.requester ? { requester: opts.requester } : {}),
    ...(opts.reason ? { reason: opts.reason } : {}),
    ...(opts.controlReference ? { controlReference: opts.controlReference } : {}),
    ...(opts.series ? { series: opts.series } : {}),
    ...(opts.allowEmpty ? { allowEmpty: true } : {}),
  };
  // Refuse a bad request before keys and engines are touched, so the first message is about it.
  validateRequest(request, flagOf);
  await checkLocalPaths(opts.logs, opts.out);
  const onProgress = progress(opts.json);
  const deps = await localDeps({
    engine: engineChoice(opts),
    out: opts.out,
    keyPath: opts.key,
    ...(opts.config ? { configPath: opts.config } : {}),
    ...(onProgress ? { onProgress } : {}),
    ...tsaUrlOf(opts.tsaUrl),
  });
  try {
    const result = await exportEvidence(request, { ...deps, operator: operatorOf(opts.requester) });
    endProgress(opts.json);
    printExport(result, opts.out, opts.json);
  } finally {
    await deps.close();
  }
}

/** The TSA that timestamps the manifest: `--tsa-url`, else `SESSIONTRAIL_TSA_URL` when set, else none. */
function tsaUrlOf(option: string | undefined): { tsaUrl?: string } {
  const url = option ?? process.env.SESSIONTRAIL_TSA_URL;
  return url === undefined || url === '' ? {} : { tsaUrl: url };
}

/** The Trino options of `export` and `trino-tables`. */
export interface TrinoOptions {
  readonly engine?: 'duckdb' | 'trino';
  readonly trinoUrl?: string;
  readonly trinoCatalog: string;
  readonly trinoSchema: string;
  readonly trinoWorkCatalog: string;
  readonly trinoWorkSchema: string;
  readonly trinoLogsRoot?: string;
  readonly trinoUser?: string;
}

/**
 * The engine an export runs on, from its options.
 * @throws SessiontrailError `BAD_REQUEST` when the options of the chosen engine are missing.
 */
function engineChoice(
  opts: TrinoOptions & { logs?: string; threads?: number; memoryLimit?: string; maxFileMib?: number },
): EngineChoice {
  if ((opts.engine ?? 'duckdb') === 'duckdb') {
    if (opts.logs === undefined)
      throw new SessiontrailError('BAD_REQUEST', '--logs is required with the DuckDB engine (the default)');
    return {
      kind: 'duckdb',
      logs: opts.logs,
      ...(opts.threads ? { threads: opts.threads } : {}),
      ...(opts.memoryLimit ? { memoryLimit: opts.memoryLimit } : {}),
      ...(opts.maxFileMib ? { maxFileBytes: opts.maxFileMib * 1024 * 1024 } : {}),
    };
  }
  if (opts.trinoUrl === undefined)
    throw new SessiontrailError('BAD_REQUEST', '--engine trino needs --trino-url, e.g. http://trino:8080');
  if (opts.logs !== undefined)
    throw new SessiontrailError(
      'BAD_REQUEST',
      '--engine trino reads the raw tables of --trino-catalog/--trino-schema, not --logs: leave --logs out',
    );
  return {
    kind: 'trino',
    url: opts.trinoUrl,
    catalog: opts.trinoCatalog,
    schema: opts.trinoSchema,
    workCatalog: opts.trinoWorkCatalog,
    workSchema: opts.trinoWorkSchema,
    ...(opts.trinoLogsRoot ? { logsRoot: opts.trinoLogsRoot } : {}),
    ...(opts.trinoUser ? { user: opts.trinoUser } : {}),
  };
}

/**
 * `trino-tables`: creates (or prints, with --print) the raw tables of the given sources in a Trino
 * Hive catalog over logs laid out as the S3 bucket at `--location`. CloudTrail's date folders are
 * listed from `--logs` (the same folder on this machine), or from the location itself when it is a
 * `local://` path.
 */
export async function runTrinoTables(
  opts: Common &
    TrinoOptions & {
      location: string;
      source: string[];
      logs?: string;
      print?: boolean;
      ocsfLines?: boolean;
    },
): Promise<void> {
  const location = opts.location.replace(/\/+$/, '');
  const sources = opts.source.length > 0 ? [...new Set(opts.source)].sort() : [...SOURCE_NAMES];
  for (const s of sources)
    if (!SOURCE_NAMES.includes(s))
      throw new SessiontrailError('BAD_REQUEST', `unknown source ${s}: known are ${SOURCE_NAMES.join(', ')}`);
  const localRoot =
    opts.logs ?? (location.startsWith('local://') ? location.slice('local://'.length) : undefined);
  const specs: Readonly<Record<string, RawTableSpec>> = opts.ocsfLines ? { ocsf: OCSF_JSON_TABLE } : {};
  // A staged table (CloudTrail, OCSF as JSON) reads per-record copies of the delivered files: over
  // local files they are made here; over S3 the deployment's export makes them
  // (lib/locate/record-staging.ts).
  if (localRoot !== undefined)
    for (const s of sources) {
      const spec = specs[s] ?? SOURCES[s]?.rawTable;
      if (spec !== undefined) await stageLocalFolder(localRoot, spec);
    }
  const folders = async (spec: RawTableSpec): Promise<readonly string[]> => {
    if (localRoot === undefined) return [];
    const dir = join(localRoot, spec.location);
    if (!existsSync(dir)) return [];
    return (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'));
  };
  const target = {
    catalog: opts.trinoCatalog,
    schema: opts.trinoSchema,
    location,
    specs,
  };
  if (opts.print) {
    const { statements } = await rawTableStatements(sources, target, folders);
    out(statements.map((x) => `${x};`).join('\n\n'));
    return;
  }
  if (opts.trinoUrl === undefined)
    throw new SessiontrailError(
      'BAD_REQUEST',
      'trino-tables needs --trino-url (or --print to only print the DDL)',
    );
  const engine = new TrinoEngine({
    server: opts.trinoUrl,
    workCatalog: opts.trinoWorkCatalog,
    workSchema: opts.trinoWorkSchema,
    user: opts.trinoUser ?? userInfo().username,
  });
  try {
    const tables = await createRawTables(engine, sources, target, folders);
    if (opts.json) out(JSON.stringify({ catalog: opts.trinoCatalog, schema: opts.trinoSchema, tables }));
    else out(`created ${tables.map((t) => `${opts.trinoCatalog}.${opts.trinoSchema}.${t}`).join(', ')}`);
  } finally {
    await engine.close();
  }
}

/**
 * Who seals, for the manifest and the PDF cover: `--requester` when given, else the OS account that
 * runs the command (os.userInfo), named as such so neither reads as more than it is.
 */
function operatorOf(requester: string | undefined): string {
  if (requester) return `${requester} (--requester)`;
  try {
    return `${userInfo().username} (OS user on ${hostname()})`;
  } catch {
    return 'unknown (no --requester, and the OS user cannot be read)';
  }
}

function printExport(result: ExportResult, root: string, json: boolean | undefined): void {
  const dir = resolve(root, result.dir);
  const s = result.pack.summary;
  if (json) {
    out(
      JSON.stringify({
        status: result.status,
        pack_id: result.packId,
        dir,
        evidence_sha256: result.evidenceSha256,
        key_id: result.keyId,
        summary: s,
      }),
    );
    return;
  }
  out(
    result.status === 'written'
      ? `sealed pack ${result.packId}`
      : `pack ${result.packId} was already sealed with identical evidence.json`,
  );
  out(`  folder         ${dir}`);
  out(`  evidence.json  sha256 ${result.evidenceSha256}`);
  out(
    `  sessions       ${s.sessions} (${s.privileged_sessions} privileged; ${s.verdicts.complete} complete, ${s.verdicts.incomplete} incomplete) on ${s.hosts} hosts, ${s.accounts} accounts`,
  );
  const bySource = new Map<string, number>();
  for (const x of result.pack.sessions) bySource.set(x.source, (bySource.get(x.source) ?? 0) + 1);
  const counts = [...bySource].map(([k, n]) => `${k} ${n}`).join(', ') || 'no sessions';
  out(`  by source      ${counts} (read: ${result.pack.pack.sources.join(', ')})`);
  out(
    `  activity       ${s.activity_events} events in sessions; ${s.orphan_events} orphan events in ${s.orphan_groups} groups`,
  );
  out(
    `  suppressed     ${s.suppressed_sessions} sessions by rules; ${s.rejected_records} records rejected; ${s.integrity_events} integrity events`,
  );
  const f = result.pack.findings;
  const bySeverity = ['high', 'medium', 'low'].map(
    (sev) => `${f.filter((x) => x.severity === sev).length} ${sev}`,
  );
  out(`  findings       ${f.length} (${bySeverity.join(', ')}), listed first in the PDF`);
}

/** Options of `sessiontrail verify`. */
export interface VerifyOptions extends Common {
  /** Trusted public keys (PEM files), repeatable. */
  readonly key?: string[];
  /** A file of trusted PEM public keys; default `SESSIONTRAIL_TRUST_FILE` when set. */
  readonly trustFile?: string;
  /** A KMS key whose public key (GetPublicKey) is trusted. */
  readonly kmsKeyId?: string;
  readonly allowUntrustedKey?: boolean;
  /** Verify a whole series folder instead of one pack. */
  readonly series?: string;
  /** The series head recorded at the last check. */
  readonly expectHead?: number;
  /** PEM certificates of the TSA CAs trusted for `manifest.tsr`. */
  readonly tsaCa?: string;
}

export async function runVerify(packDir: string | undefined, opts: VerifyOptions): Promise<void> {
  const trustedKeys = await loadTrustedKeys(opts);
  if (opts.series !== undefined) {
    if (packDir !== undefined) {
      throw new SessiontrailError('BAD_REQUEST', 'give either a pack folder or --series <dir>, not both');
    }
    const { store, relative } = storeOf(opts.series, 1);
    const result = await verifySeries({
      store,
      series: relative,
      trustedKeys,
      ...(opts.allowUntrustedKey ? { allowUntrustedKey: true } : {}),
      ...(opts.expectHead !== undefined ? { expectedHead: opts.expectHead } : {}),
    });
    if (opts.json) {
      out(
        JSON.stringify({
          ok: result.ok,
          series: opts.series,
          head: result.head,
          origin: trustedKeys.length > 0 ? 'checked' : 'not checked',
          checks: result.checks,
          packs: result.packs.map((p) => ({
            folder: p.folder,
            sequence: p.sequence,
            ok: p.result.ok,
            origin: p.result.origin,
          })),
        }),
      );
    } else {
      for (const p of result.packs) {
        out(
          `${p.result.ok ? 'ok  ' : 'FAIL'} pack ${String(p.sequence ?? '?').padStart(4)} ${p.folder} (origin: ${p.result.origin})`,
        );
      }
      for (const c of result.checks) out(`FAIL ${c.code.padEnd(30)} ${c.message}`);
      out(`head: sequence ${result.head} (record it, and pass --expect-head ${result.head} next time)`);
      out(result.ok ? `verified series: ${opts.series}` : `NOT verified series: ${opts.series}`);
    }
    if (!result.ok) process.exitCode = 1;
    return;
  }
  if (packDir === undefined) {
    throw new SessiontrailError(
      'BAD_REQUEST',
      'give a pack folder <out>/<series>/<pack-id>, or --series <dir>',
    );
  }
  const tsaCas =
    opts.tsaCa === undefined
      ? undefined
      : await readFile(opts.tsaCa, 'utf8').catch((cause) => {
          throw new SessiontrailError('BAD_REQUEST', `cannot read --tsa-ca ${opts.tsaCa}`, { cause });
        });
  const result = await verifyFolder(packDir, trustedKeys, opts.allowUntrustedKey === true, tsaCas);
  if (opts.json) out(JSON.stringify(verifyJson(result)));
  else printVerify(result, packDir);
  if (!result.ok) process.exitCode = 1;
}

/** `--json` output of a pack check: the trust basis first, then every check. */
function verifyJson(result: VerifyResult) {
  return {
    ok: result.ok,
    origin: result.origin,
    trustBasis: result.trustBasis,
    packId: result.packId,
    keyId: result.keyId,
    manifestSha256: result.manifestSha256,
    timestamp: result.timestamp,
    checks: result.checks,
  };
}

/**
 * The keys the auditor trusts, from `--key` files, a trust file (`--trust-file`, else
 * `SESSIONTRAIL_TRUST_FILE`) and KMS `GetPublicKey` (`--kms-key-id`); never from the evidence store.
 */
async function loadTrustedKeys(opts: VerifyOptions): Promise<string[]> {
  const keys: string[] = [];
  const readText = async (path: string, what: string): Promise<string> => {
    try {
      return await readFile(path, 'utf8');
    } catch (cause) {
      throw new SessiontrailError('KEY_NOT_FOUND', `cannot read ${what} ${path}`, { cause });
    }
  };
  for (const path of opts.key ?? [])
    keys.push(...parseTrustFile(await readText(path, 'the public key'), path));
  const trustFile = opts.trustFile ?? (process.env.SESSIONTRAIL_TRUST_FILE || undefined);
  if (trustFile) keys.push(...parseTrustFile(await readText(trustFile, 'the trust file'), trustFile));
  if (opts.kmsKeyId) {
    const region = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1';
    keys.push(
      await new KmsSigner({ client: new KMSClient({ region }), keyId: opts.kmsKeyId }).publicKeyPem(),
    );
  }
  return keys;
}

/**
 * `rederive`: re-reads exactly the inputs a pack lists, re-runs its statements from its recorded
 * request and shows that evidence.json comes out byte-identical (exit 0) or where it first differs
 * (exit 1, REDERIVE_DIFFERS).
 */
export async function runRederive(
  packDir: string,
  opts: Common & { logs: string; config?: string; threads?: number; memoryLimit?: string },
): Promise<void> {
  const { store, relative } = storeOf(packDir, 2);
  const onProgress = progress(opts.json);
  const deps = await rederiveDeps({
    logs: opts.logs,
    ...(opts.threads ? { threads: opts.threads } : {}),
    ...(opts.memoryLimit ? { memoryLimit: opts.memoryLimit } : {}),
    ...(opts.config ? { configPath: opts.config } : {}),
    ...(onProgress ? { onProgress } : {}),
  });
  let result: Awaited<ReturnType<typeof rederiveEvidence>>;
  try {
    result = await rederiveEvidence({ store, packDir: relative }, deps);
  } finally {
    await deps.close();
  }
  endProgress(opts.json);
  if (opts.json) {
    out(
      JSON.stringify({
        identical: result.identical,
        ...(result.identical ? {} : { code: 'REDERIVE_DIFFERS' }),
        pack_sha256: result.packSha256,
        rederived_sha256: result.rederivedSha256,
        first_difference: result.firstDifference,
        inputs_checked: result.inputsChecked,
        queries_identical: result.queriesIdentical,
        queries_differing: result.queriesDiffering,
      }),
    );
  } else {
    out(`inputs     ${result.inputsChecked} files re-read, each of the size and sha256 the pack lists`);
    out(
      `queries    ${result.queriesIdentical} statements identical to the pack's queries/*.sql${result.queriesDiffering.length > 0 ? `; differing: ${result.queriesDiffering.join(', ')}` : ''}`,
    );
    if (result.identical) {
      out(`rederived  identical: evidence.json sha256 ${result.packSha256}`);
    } else {
      out(
        `rederived  DIFFERS [REDERIVE_DIFFERS]: pack sha256 ${result.packSha256}, re-derived ${result.rederivedSha256}`,
      );
      const d = result.firstDifference;
      if (d !== null) out(`  first difference at ${d.path}: pack ${d.pack}, re-derived ${d.rederived}`);
    }
  }
  if (!result.identical) process.exitCode = 1;
}

async function verifyFolder(
  packDir: string,
  trustedKeys: string[],
  allowUntrustedKey: boolean,
  trustedTsaCas?: string,
): Promise<VerifyResult> {
  const { store, relative } = storeOf(packDir, 2);
  return verifyPack({
    store,
    packDir: relative,
    trustedKeys,
    ...(allowUntrustedKey ? { allowUntrustedKey: true } : {}),
    ...(trustedTsaCas === undefined ? {} : { trustedTsaCas }),
  });
}

/** A store and the path inside it for a pack folder (`depth` 2) or a series folder (`depth` 1). */
function storeOf(location: string, depth: 1 | 2): { store: EvidenceStore; relative: string } {
  if (location.startsWith('s3://')) {
    const { store, packDir } = s3PackLocation(location, depth);
    return { store, relative: packDir };
  }
  const abs = resolve(location);
  if (!existsSync(abs)) {
    throw new SessiontrailError(
      'BAD_REQUEST',
      depth === 2
        ? `no pack folder at ${abs}: give the folder <out>/<series>/<pack-id>`
        : `no series folder at ${abs}: give the folder <out>/<series>`,
    );
  }
  if (depth === 1) return { store: new FsEvidenceStore(dirname(abs)), relative: basename(abs) };
  return {
    store: new FsEvidenceStore(dirname(dirname(abs))),
    relative: `${basename(dirname(abs))}/${basename(abs)}`,
  };
}

/**
 * `s3://bucket[/prefix…]/<series>/<pack-id>` → a store at `s3://bucket/prefix` and the pack folder.
 * The client takes endpoint and credentials from the standard AWS variables and files
 * (`AWS_ENDPOINT_URL_S3` points it at another S3) and its first region from `AWS_REGION` or
 * `AWS_DEFAULT_REGION` (else us-east-1); S3's region redirects are followed.
 */
function s3PackLocation(url: string, depth: 1 | 2 = 2): { store: EvidenceStore; packDir: string } {
  const [bucket = '', ...parts] = url.slice('s3://'.length).replace(/\/+$/, '').split('/');
  if (bucket === '' || parts.length < depth) {
    throw new SessiontrailError(
      'BAD_REQUEST',
      `expected s3://<bucket>[/<prefix>]/<series>${depth === 2 ? '/<pack-id>' : ''}, received ${JSON.stringify(url)}`,
    );
  }
  // Any region reaches any bucket once redirects are followed, so a missing region is not an error.
  const region = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1';
  const client = new S3Client({ region, followRegionRedirects: true });
  const store = new S3EvidenceStore({ client, bucket, prefix: parts.slice(0, -depth).join('/') });
  return { store, packDir: parts.slice(-depth).join('/') };
}

function printVerify(result: VerifyResult, packDir: string): void {
  for (const c of result.checks)
    out(`${c.code === 'OK' ? 'ok  ' : 'FAIL'} ${c.code.padEnd(30)} ${c.file ?? ''} ${c.message}`);
  // The trust basis last, beside the verdict, where it cannot be missed.
  out(
    `origin: ${result.origin === 'verified' ? `verified with ${result.trustBasis}` : result.origin === 'not checked' ? `NOT CHECKED (${result.trustBasis}): integrity only, pass --key, --trust-file or --kms-key-id` : 'FAILED'}`,
  );
  if (result.timestamp !== null)
    out(
      `trusted time: ${result.timestamp.time} (RFC 3161, ${result.timestamp.tsa}${result.timestamp.tsaTrusted ? '' : '; TSA not checked: pass --tsa-ca'})`,
    );
  out(result.ok ? `verified: ${packDir}` : `NOT verified: ${packDir}`);
}

export async function runDemo(opts: Common & { out: string; key: string }): Promise<void> {
  const logs = '.sessiontrail/demo-logs';
  const onProgress = progress(opts.json);
  onProgress?.('writing sample logs');
  await rm(logs, { recursive: true, force: true });
  const sample = await generateSamples({
    kinds: SAMPLE_KINDS,
    seed: 42,
    hosts: 6,
    days: 2,
    from: '2024-03-04',
    outDir: logs,
  });
  if (!existsSync(opts.key)) await generateKeyPair(opts.key);
  const deps = await localDeps({
    engine: { kind: 'duckdb', logs },
    out: opts.out,
    keyPath: opts.key,
    configPath: new URL('../config/demo.config.json', import.meta.url).pathname,
    ...(onProgress ? { onProgress } : {}),
  });
  let result: ExportResult;
  try {
    result = await exportEvidence(
      { kind: 'review', from: sample.window.from, to: sample.window.to, series: 'demo-review' },
      { ...deps, operator: operatorOf(undefined) },
    );
  } finally {
    await deps.close();
  }
  onProgress?.('verifying');
  const dir = resolve(opts.out, result.dir);
  // The demo made the key itself, so its public half is a key it trusts.
  const ownKey = await deps.signer.publicKeyPem();
  const verified = await verifyFolder(dir, [ownKey], false);
  const keyFile = resolve(dirname(opts.key), `${result.keyId}.pub.pem`);
  if (!existsSync(keyFile)) await writeFile(keyFile, ownKey, { flag: 'wx' });
  endProgress(opts.json);
  if (opts.json) {
    out(
      JSON.stringify({
        status: result.status,
        pack_id: result.packId,
        dir,
        verified: verified.ok,
        summary: result.pack.summary,
      }),
    );
  } else {
    out(
      `sample logs under ${resolve(logs)}: ${sample.outcomes.map((o) => `${o.kind} ${o.files} files`).join(', ')}`,
    );
    printExport(result, opts.out, false);
    out(
      `  verify         ${verified.ok ? 'ok: signature, every digest and the schema check out' : 'FAILED'}`,
    );
    out('');
    out('Check it with nothing but openssl and sha256sum, using the public key you trust (here the');
    out('demo key itself; an auditor uses the key the publisher handed over, never the copy under keys/):');
    out(`  cd ${dir}`);
    out(`  openssl dgst -sha256 -verify ${keyFile} -signature manifest.sig manifest.json`);
    out(`  sha256sum evidence.json evidence.pdf   # compare with the digests listed in manifest.json`);
    out(`  (or: sessiontrail verify --key ${keyFile} ${dir})`);
  }
  if (!verified.ok) process.exitCode = 1;
}
