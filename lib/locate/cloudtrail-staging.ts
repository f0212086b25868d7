/**
 * CloudTrail staging: splits the delivered `{"Records":[…]}` objects of a pack's window into
 * per-record copies that the CloudTrail table reads one row per record (Athena refuses a row over
 * 32 MB, and busy accounts deliver larger files; decision in lib/sources/cloudtrail-raw-table.ts).
 *
 * The split is the local intake's own ({@link scanTextFile}: gzip by magic, member by member, the
 * document split per record, every record checked), so a bad record is rejected alone, with its
 * position, on every engine. Each delivered object `<stagedFrom>/<rest>` with ETag `e` becomes:
 * - `<table location>/<rest>.<e>.ndjson.gz`: one line per kept record,
 *   `{"key":"<delivered key>","position":<index>,"record":{…}}`, so that the table gives the same
 *   object key and position as the file reader (the pack's `raw_ref`);
 * - `cloudtrail-staging/accounts/<rest>.<e>.json`: what was counted (the intake's account of the
 *   object), written last: its presence says the object is staged.
 * Both are written once (`If-None-Match: *`) and named by the delivered key and its ETag, so a rerun
 * reuses them, and a changed object (new ETag) is staged anew. Memory: the object is streamed to a
 * scratch file, split record by record, and the output gzipped to a scratch file before upload; no
 * object is held in memory.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import {
  copyFile,
  link,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { SessiontrailError } from '../errors.ts';
import { CLOUDTRAIL_STAGING_PREFIX, stagedLocationOf } from '../sources/cloudtrail-raw-table.ts';
import type { RawTableSpec } from '../sources/raw-table.ts';
import { problemsOf } from './local-logs.ts';
import { DEFAULT_LIMITS, type InputFile, type IntakeLimits, scanTextFile } from './log-intake.ts';
import { planRawInput, type SourceTable, sourceTableOf } from './raw-input-plan.ts';
import type { FileProblem, InputObject } from './raw-log-locator.ts';

/** A delivered object as listed. */
export interface ListedObject {
  /** Key relative to the logs root (`cloudtrail/AWSLogs/…`). */
  readonly key: string;
  /** S3's ETag without quotes (a local folder: the sha256 of the content). */
  readonly etag: string;
  readonly size: number;
  readonly versionId: string | null;
  readonly lastModified: string | null;
}

/**
 * Where the logs are, for the staging: keys are relative to the logs root. Implemented over S3
 * (lib/storage/s3-staging-bucket.ts) and over a local folder ({@link folderStagingBucket}).
 */
export interface StagingBucket {
  /** The sub-folders directly under `prefix` (ending in `/`), e.g. the accounts under `AWSLogs/`. */
  folders(prefix: string): Promise<readonly string[]>;
  /** The objects directly under `prefix` (a day's folder). */
  objects(prefix: string): Promise<readonly ListedObject[]>;
  /** True when `key` exists (a listing, not a HEAD: see the IAM note in infra/README.md). */
  exists(key: string): Promise<boolean>;
  /** Streams `key` into the file `path`; returns the sha256 (hex) of the bytes as stored. */
  download(key: string, path: string): Promise<string>;
  /** A small object's bytes (an account). */
  read(key: string): Promise<Uint8Array>;
  /** Writes `key` from the file `path` unless it exists; false when it existed. */
  putOnce(key: string, path: string, contentType: string): Promise<boolean>;
  /** `s3://bucket/<root>/<key>`, or the local path, as the pack lists an input. */
  describe(key: string): string;
}

/** What the staging did with one delivered object, as the pack's input list reports it. */
export interface StagedFile {
  readonly object: InputObject;
  /** Its rejected records (and a damaged or unreadable object as one), by reason with positions. */
  readonly problems: readonly FileProblem[];
  /** The per-record copy the table reads; null when the object holds no readable record. */
  readonly staged: string | null;
  /** True when an earlier run had staged it (same key and ETag). */
  readonly reused: boolean;
}

/** The account written next to each staged object (and read back by a rerun). */
interface StagedAccount {
  readonly version: 1;
  readonly input: InputFile;
  readonly sha256: string | null;
  readonly staged: string | null;
}

const ETAG = /^[0-9A-Za-z-]{1,80}$/;
const ACCOUNT_ID = /^\d{12}\/$/;
const DAY_MS = 86_400_000;

/** The staged copy and the account of a delivered key, under the table's location. */
export function stagedKeysOf(
  stagedFrom: string,
  key: string,
  etag: string,
): { readonly records: string; readonly account: string } {
  const table = { stagedFrom, location: stagedLocationOf(stagedFrom) };
  if (!key.startsWith(`${table.stagedFrom}/`) || !ETAG.test(etag))
    throw new SessiontrailError(
      'INTERNAL',
      `cannot stage ${JSON.stringify(key)} (ETag ${JSON.stringify(etag)}): not under ${table.stagedFrom}/`,
    );
  const rest = key.slice(table.stagedFrom.length + 1);
  const under = table.stagedFrom.split('/').slice(1).join('/');
  return {
    records: `${table.location}/${rest}.${etag}.ndjson.gz`,
    account: `${CLOUDTRAIL_STAGING_PREFIX}/accounts/${under === '' ? '' : `${under}/`}${rest}.${etag}.json`,
  };
}

/**
 * Stages the delivered CloudTrail objects that a pack over `[fromMs, toMs)` reads: every account
 * and region folder under the table's `stagedFrom` (an organization trail's included, us-east-1 as
 * any other region), for the days the table input covers (the delivery lag included).
 * @param table the CloudTrail {@link SourceTable} (format `records`, with `stagedFrom`).
 * @returns one {@link StagedFile} per delivered object, sorted by key.
 * @throws {SessiontrailError} `BAD_CONFIG` for a table that is not staged; what the bucket throws.
 */
export async function stageCloudTrail(
  bucket: StagingBucket,
  table: SourceTable,
  fromMs: number,
  toMs: number,
  options: { readonly limits?: IntakeLimits; readonly scratch?: string } = {},
): Promise<readonly StagedFile[]> {
  const stagedFrom = table.stagedFrom;
  if (table.format !== 'records' || stagedFrom === undefined)
    throw new SessiontrailError('BAD_CONFIG', `table ${table.table} is not a staged records table`);
  const plan = planRawInput(table, fromMs, toMs);
  if (plan.kind !== 'table') throw new SessiontrailError('INTERNAL', 'a table input was expected');
  const days: string[] = [];
  for (let t = Date.parse(`${plan.dtFrom}T00:00:00Z`); t <= Date.parse(`${plan.dtTo}T00:00:00Z`); t += DAY_MS)
    days.push(new Date(t).toISOString().slice(0, 10).replaceAll('-', '/'));
  const objects: ListedObject[] = [];
  for (const account of (await bucket.folders(`${stagedFrom}/`)).filter((f) => ACCOUNT_ID.test(f))) {
    const regions = await bucket.folders(`${stagedFrom}/${account}CloudTrail/`);
    for (const region of regions)
      for (const day of days)
        objects.push(...(await bucket.objects(`${stagedFrom}/${account}CloudTrail/${region}${day}/`)));
  }
  objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const scratch = options.scratch ?? (await mkdtemp(join(tmpdir(), 'st-ct-stage-')));
  try {
    const out: StagedFile[] = [];
    for (const o of objects) out.push(await stageObject(bucket, stagedFrom, o, scratch, options.limits));
    return out;
  } finally {
    if (options.scratch === undefined) await rm(scratch, { recursive: true, force: true });
  }
}

/** Stages one delivered object, or reads back the account of an earlier run. */
async function stageObject(
  bucket: StagingBucket,
  stagedFrom: string,
  o: ListedObject,
  scratch: string,
  limits: IntakeLimits = DEFAULT_LIMITS,
): Promise<StagedFile> {
  const keys = stagedKeysOf(stagedFrom, o.key, o.etag);
  if (await bucket.exists(keys.account)) {
    const account = JSON.parse(new TextDecoder().decode(await bucket.read(keys.account))) as StagedAccount;
    return fileOf(bucket, o, account, true);
  }
  const source = join(scratch, 'object');
  const target = join(scratch, 'records.ndjson.gz');
  const accountPath = join(scratch, 'account.json');
  let sha256: string | null = null;
  let input: InputFile;
  let kept = 0;
  try {
    sha256 = await bucket.download(o.key, source);
    const fh = await open(source, 'r');
    const magic = Buffer.alloc(2);
    const { bytesRead } = await fh.read(magic, 0, 2, 0).finally(() => fh.close());
    const gzip = bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
    const gz = createGzip();
    const file = createWriteStream(target);
    const written = new Promise<void>((done, fail) => {
      file.on('finish', done).on('error', fail);
      gz.on('error', fail);
    });
    gz.pipe(file);
    const prefix = (position: number) =>
      Buffer.from(`{"key":${JSON.stringify(o.key)},"position":${position},"record":`);
    const scan = await scanTextFile(
      source,
      o.key,
      gzip,
      { documents: true, limits },
      (line, position) => {
        if (line !== null) gz.write(Buffer.concat([prefix(position), line, CLOSE]));
      },
      // Backpressure: the next chunk is read once the gzip stream has taken the last one's lines.
      async () => {
        if (gz.writableNeedDrain) await new Promise((done) => gz.once('drain', done));
      },
    );
    gz.end();
    await written;
    input = scan.input;
    kept = scan.kept;
  } catch (err) {
    if (err instanceof SessiontrailError) throw err;
    input = {
      key: o.key,
      status: 'unreadable',
      reason: 'unreadable_file',
      bytes: 0,
      lines: null,
      records: null,
      rejected: [],
    };
  }
  const staged = kept > 0 ? keys.records : null;
  if (staged !== null) await bucket.putOnce(staged, target, 'application/x-ndjson');
  const account: StagedAccount = { version: 1, input, sha256, staged };
  await writeFile(accountPath, JSON.stringify(account));
  await bucket.putOnce(keys.account, accountPath, 'application/json');
  return fileOf(bucket, o, account, false);
}

const CLOSE = Buffer.from('}\n');

function fileOf(bucket: StagingBucket, o: ListedObject, account: StagedAccount, reused: boolean): StagedFile {
  const taken = account.input;
  const readAny = (taken.status === 'read' || taken.status === 'damaged') && taken.bytes > 0;
  return {
    object: {
      key: bucket.describe(o.key),
      status: taken.status,
      reason: taken.reason,
      size: o.size,
      sha256: account.sha256,
      s3:
        o.lastModified === null
          ? null
          : { version_id: o.versionId, etag: o.etag, checksum: null, last_modified: o.lastModified },
      records: taken.records,
      range: readAny
        ? { bytes: taken.bytes, last_line: taken.lines !== null && taken.lines > 0 ? taken.lines : null }
        : null,
    },
    problems: problemsOf(taken),
    staged: account.staged,
    reused,
  };
}

/**
 * A local folder as a {@link StagingBucket} (the logs root laid out as the bucket): for Trino over
 * local files (`local://`), the conformance suite and the tests. The ETag is the content's sha256.
 */
export function folderStagingBucket(root: string): StagingBucket {
  const full = (key: string) => join(root, ...key.split('/'));
  return {
    async folders(prefix) {
      const entries = await readdir(full(prefix), { withFileTypes: true }).catch(() => []);
      return entries
        .filter((e) => e.isDirectory())
        .map((e) => `${e.name}/`)
        .sort();
    },
    async objects(prefix) {
      const entries = await readdir(full(prefix), { withFileTypes: true }).catch(() => []);
      const out: ListedObject[] = [];
      for (const e of entries.filter((x) => x.isFile()).sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const key = `${prefix}${e.name}`;
        out.push({
          key,
          etag: await sha256Of(full(key)),
          size: (await stat(full(key))).size,
          versionId: null,
          lastModified: null,
        });
      }
      return out;
    },
    async exists(key) {
      return stat(full(key)).then(
        () => true,
        () => false,
      );
    },
    async download(key, path) {
      await copyFile(full(key), path);
      return sha256Of(path);
    },
    async read(key) {
      return readFile(full(key));
    },
    async putOnce(key, path) {
      await mkdir(join(full(key), '..'), { recursive: true });
      // link() fails when the name exists: write-once, as If-None-Match on S3.
      const tmp = `${full(key)}.${process.pid}.tmp`;
      await copyFile(path, tmp);
      try {
        await link(tmp, full(key));
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw err;
      } finally {
        await rm(tmp, { force: true });
      }
    },
    describe(key) {
      return key;
    },
  };
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Stages every delivered object of a local logs root (laid out as the bucket) for a `records` table
 * spec: the days span the first to the last `YYYY/MM/DD` folder found under its `stagedFrom`. For
 * Trino over local files (`sessiontrail trino-tables` with a `local://` location, and the tests).
 * @returns the staged files, as {@link stageCloudTrail}; none when the spec is not staged or the
 *   folder holds no day.
 */
export async function stageLocalFolder(root: string, spec: RawTableSpec): Promise<readonly StagedFile[]> {
  if (spec.stagedFrom === undefined) return [];
  const dir = join(root, ...spec.stagedFrom.split('/'));
  const days = (await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []))
    .filter((e) => e.isDirectory())
    .map((e) => /(\d{4})[/\\](\d{2})[/\\](\d{2})$/.exec(join(e.parentPath, e.name)))
    .filter((m) => m !== null)
    .map((m) => `${m[1]}-${m[2]}-${m[3]}`)
    .sort();
  const first = days[0];
  const last = days[days.length - 1];
  if (first === undefined || last === undefined) return [];
  // No delivery lag here: every day folder present is named.
  const table = { ...sourceTableOf(spec, { database: 'local' }), lagDays: 0 };
  return stageCloudTrail(folderStagingBucket(root), table, Date.parse(first), Date.parse(last) + DAY_MS);
}
