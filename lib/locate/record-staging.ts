/**
 * Record staging: splits the delivered objects of a staged table (format `records`: CloudTrail's
 * `{"Records":[…]}` files, OCSF written as JSON) for a pack's window into per-record copies that
 * the table reads one row per record, each with the key and position the file reader gives it.
 * Athena refuses a row over 32 MB, and busy accounts deliver larger CloudTrail files (decision in
 * lib/sources/cloudtrail-raw-table.ts); a Hive text table numbers no lines, so a JSON-lines record
 * could not be cited by its position (lib/sources/ocsf-raw-table.ts).
 *
 * The split is the local intake's own ({@link scanTextFile}: gzip by magic, member by member, a
 * document split per record, every record checked), followed by what DuckDB's
 * `jsonRecords` makes of the intake's lines ({@link recordsOfLines}), so a record has the same
 * position, and a line that is no JSON the same `malformed_json` row, on every engine. Each
 * delivered object `<stagedFrom>/<rest>` with ETag `e` becomes:
 * - `<table location>/<rest>.<e>.ndjson.gz`: one line per record row,
 *   `{"key":"<delivered key>","position":<index>,"record":{…}}` or
 *   `{"key":…,"position":…,"problem":"malformed_json"}`, so that the table gives the same object
 *   key and position as the file reader (the pack's `raw_ref`);
 * - `<staging folder>/accounts/<rest>.<e>.json`: what was counted (the intake's account of the
 *   object), written last: its presence says the object is staged.
 * Both are written once (`If-None-Match: *`) and named by the delivered key and its ETag, so a rerun
 * reuses them, and a changed object (new ETag) is staged anew. Memory: the object is streamed to a
 * scratch file, split record by record, and the output gzipped to a scratch file before upload; at
 * most one document of {@link MAX_DOCUMENT_BYTES} is held while its shape is decided.
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
import { join, relative, sep } from 'node:path';
import { createGzip } from 'node:zlib';
import { SessiontrailError } from '../errors.ts';
import {
  dayOfKey,
  deliveredLayoutOf,
  placeholder,
  type RawTableSpec,
  stagedLocationOf,
  stagingFolderOf,
} from '../sources/raw-table.ts';
import { problemsOf } from './local-logs.ts';
import {
  DEFAULT_LIMITS,
  type InputFile,
  type IntakeLimits,
  jsonProblem,
  type RecordSink,
  scanTextFile,
  splitRecords,
} from './log-intake.ts';
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
/** An AWS account id: 12 digits (AWS Account Management reference, "AWS account identifiers"). */
const ACCOUNT_ID = /^\d{12}$/;
const DAY_MS = 86_400_000;
/** Parquet is read as Parquet (its own table), never as text: such objects are not staged. */
const PARQUET = /\.parquet$/i;

/** The staged copy and the account of a delivered key, under the table's location. */
export function stagedKeysOf(
  stagedFrom: string,
  key: string,
  etag: string,
): { readonly records: string; readonly account: string } {
  if (!key.startsWith(`${stagedFrom}/`) || !ETAG.test(etag))
    throw new SessiontrailError(
      'INTERNAL',
      `cannot stage ${JSON.stringify(key)} (ETag ${JSON.stringify(etag)}): not under ${stagedFrom}/`,
    );
  const rest = key.slice(stagedFrom.length + 1);
  const under = stagedFrom.split('/').slice(1).join('/');
  return {
    records: `${stagedLocationOf(stagedFrom)}/${rest}.${etag}.ndjson.gz`,
    account: `${stagingFolderOf(stagedFrom)}/accounts/${under === '' ? '' : `${under}/`}${rest}.${etag}.json`,
  };
}

/** The text of one folder of a staged layout, with `${accounts}` / `${regions}` matching `value`. */
function folderPattern(segment: string): { readonly re: RegExp; readonly accounts: boolean } {
  const parts = segment.split(/(\$\{(?:accounts|regions)\})/);
  const re = parts
    .map((part) => (/^\$\{/.test(part) ? '([^/]+)' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return { re: new RegExp(`^${re}/$`, 'i'), accounts: segment.includes(placeholder('accounts')) };
}

/** The day folder text of `ms` in a day partition's format. */
function dayText(ms: number, format: SourceTable['day']['format']): string {
  const iso = new Date(ms).toISOString().slice(0, 10);
  if (format === 'yyyy/MM/dd') return iso.replaceAll('-', '/');
  if (format === 'yyyyMMdd') return iso.replaceAll('-', '');
  if (format === 'yyyy-MM-dd') return iso;
  throw new SessiontrailError('BAD_CONFIG', `a staged table cannot be partitioned by ${format}`);
}

/**
 * The folders (ending in `/`) the staging reads objects from: the table's `stagedLayout` walked
 * under `stagedFrom`, the account and region folders listed (an account folder: 12 digits), each
 * day of `days` named.
 * @param folders the sub-folders of a prefix ({@link StagingBucket.folders}); the prefixes it is
 *   given in a deployment are {@link stagingListingsOf}'s.
 */
export async function stagedFolders(
  table: Pick<SourceTable, 'stagedFrom' | 'stagedLayout' | 'day'>,
  days: readonly number[],
  folders: (prefix: string) => Promise<readonly string[]>,
): Promise<readonly string[]> {
  if (table.stagedFrom === undefined || table.stagedLayout === undefined)
    throw new SessiontrailError('BAD_CONFIG', 'a staged table names stagedFrom and stagedLayout');
  let prefixes = [`${table.stagedFrom}/`];
  for (const segment of table.stagedLayout.split('/')) {
    if (segment.includes(placeholder('day'))) {
      prefixes = prefixes.flatMap((p) =>
        days.map((d) => `${p}${segment.replace(placeholder('day'), dayText(d, table.day.format))}/`),
      );
    } else if (/\$\{/.test(segment)) {
      const { re, accounts } = folderPattern(segment);
      const next: string[] = [];
      for (const p of prefixes)
        for (const f of await folders(p)) {
          const m = re.exec(f);
          if (m !== null && (!accounts || ACCOUNT_ID.test(m[1] as string))) next.push(`${p}${f}`);
        }
      prefixes = next;
    } else prefixes = prefixes.map((p) => `${p}${segment}/`);
  }
  return prefixes;
}

/**
 * The exact prefixes {@link stagedFolders} lists in a deployment whose logs hold the folders of
 * `values` (the CDK app's accounts and regions): its IAM permission to list them, and no more.
 */
export function stagingListingsOf(
  table: Pick<SourceTable, 'stagedFrom' | 'stagedLayout'>,
  values: { readonly accounts: readonly string[]; readonly regions: readonly string[] },
): readonly string[] {
  if (table.stagedFrom === undefined || table.stagedLayout === undefined) return [];
  const listings: string[] = [];
  let prefixes = [`${table.stagedFrom}/`];
  for (const segment of table.stagedLayout.split('/')) {
    if (segment.includes(placeholder('day'))) break;
    const holds = (['accounts', 'regions'] as const).find((v) => segment.includes(placeholder(v)));
    if (holds === undefined) {
      prefixes = prefixes.map((p) => `${p}${segment}/`);
      continue;
    }
    listings.push(...prefixes);
    prefixes = prefixes.flatMap((p) =>
      values[holds].map((v) => `${p}${segment.replace(placeholder(holds), v)}/`),
    );
  }
  return [...new Set(listings)];
}

/**
 * Stages the delivered objects that a pack over `[fromMs, toMs)` reads from a staged table: every
 * account and region folder of its layout (an organization trail's included, us-east-1 as any
 * other region), for the days the table input covers (the delivery lag included). Parquet objects
 * are the Parquet table's and are left out.
 * @param table a {@link SourceTable} of format `records`, with `stagedFrom` and `stagedLayout`.
 * @returns one {@link StagedFile} per delivered object, sorted by key.
 * @throws {SessiontrailError} `BAD_CONFIG` for a table that is not staged; what the bucket throws.
 */
export async function stageRecords(
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
  const days: number[] = [];
  for (let t = Date.parse(`${plan.dtFrom}T00:00:00Z`); t <= Date.parse(`${plan.dtTo}T00:00:00Z`); t += DAY_MS)
    days.push(t);
  const objects: ListedObject[] = [];
  for (const folder of await stagedFolders(table, days, (p) => bucket.folders(p)))
    objects.push(...(await bucket.objects(folder)).filter((o) => !PARQUET.test(o.key)));
  objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const scratch = options.scratch ?? (await mkdtemp(join(tmpdir(), 'st-stage-')));
  try {
    const out: StagedFile[] = [];
    for (const o of objects) out.push(await stageObject(bucket, stagedFrom, o, scratch, options.limits));
    return out;
  } finally {
    if (options.scratch === undefined) await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * The largest document (the kept lines of a file joined) read as one JSON value; larger, its lines
 * are read one by one. The same bound in DuckDB's `jsonRecords` (lib/query/dialects/duckdb-dialect.ts,
 * `MAX_DOCUMENT_BYTES`): the intake's line limit, the largest record.
 */
export const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

/** One record row of a file, as the readers give it (`jsonRecords`). */
export type RecordRow =
  | { readonly position: number; readonly record: Buffer }
  | { readonly position: number; readonly problem: 'malformed_json' };

/** JSON both engines read: what the intake checks a document's records with (no lone surrogate). */
const isJson = (b: Buffer) => jsonProblem(b) === null;

/**
 * What DuckDB's `jsonRecords` gives for one file, from the lines the intake hands it (the sink's
 * calls of {@link scanTextFile}: a kept line, or null for a line that is no record). The rule, in
 * both places:
 * - the kept lines joined make one JSON value (at most {@link MAX_DOCUMENT_BYTES}): a **document**,
 *   whose records are the elements of the array it is or of its `Records` array, positions from 0,
 *   else the value itself, at position 0 (or, when the intake left markers, the line of that one
 *   kept record: a document split by the intake with one record left);
 * - otherwise **lines**: each kept line is a record at its line's position (from 0), or a
 *   `malformed_json` row when it is no JSON.
 * A file read as stored (`clean`) has no markers: its blank lines are read as blank lines.
 * Streaming: once a file is known to be lines (a first line that is JSON alone, then a second), its
 * rows are emitted as they come.
 */
export class RecordsOfLines {
  private readonly held: { position: number; line: Buffer }[] = [];
  private heldBytes = -1;
  private shape: 'undecided' | 'lines' = 'undecided';
  private nulls = 0;

  constructor(private readonly emit: (row: RecordRow) => void) {}

  /** The sink to give {@link scanTextFile}. */
  readonly sink: RecordSink = (line, position) => {
    if (line === null) {
      this.nulls += 1;
      return;
    }
    if (this.shape === 'lines') {
      this.line(position, line);
      return;
    }
    this.held.push({ position, line: Buffer.from(line) });
    this.heldBytes += line.length + 1;
    const first = this.held[0] as { position: number; line: Buffer };
    // A JSON value followed by another line is no single value; past the bound no document is read.
    if ((this.held.length === 2 && isJson(first.line)) || this.heldBytes > MAX_DOCUMENT_BYTES) this.release();
  };

  /** Ends the file: `clean` when the engine reads it as stored (no marker lines). */
  async end(clean: boolean): Promise<void> {
    if (this.shape === 'lines' || this.held.length === 0) return;
    const doc = Buffer.concat(this.held.flatMap((h, i) => (i === 0 ? [h.line] : [NEWLINE, h.line])));
    if (!isJson(doc)) {
      this.release();
      return;
    }
    const markers = clean ? 0 : this.nulls;
    const elements = await elementsOf(doc);
    if (elements !== null) {
      for (const [i, e] of elements.entries()) this.emit({ position: i, record: e });
      return;
    }
    // Raw line breaks of a valid JSON text are whitespace between tokens (none is inside a string).
    const record = Buffer.from(doc.toString('utf8').replace(/[\r\n]/g, ' '));
    this.emit({ position: markers > 0 ? (this.held[0] as { position: number }).position : 0, record });
  }

  private release(): void {
    this.shape = 'lines';
    for (const h of this.held.splice(0)) this.line(h.position, h.line);
  }

  private line(position: number, line: Buffer): void {
    this.emit(isJson(line) ? { position, record: line } : { position, problem: 'malformed_json' });
  }
}

const NEWLINE = Buffer.from('\n');

/**
 * The elements of a JSON document that is an array or has a `Records` array (as DuckDB's
 * `json_type(doc) = 'ARRAY'` / `json_type(doc, '$.Records') = 'ARRAY'`), each as its text; null
 * for any other value. Cut by the intake's splitter, so that numbers keep their digits.
 */
async function elementsOf(doc: Buffer): Promise<Buffer[] | null> {
  const value: unknown = JSON.parse(doc.toString('utf8'));
  const array = Array.isArray(value)
    ? value
    : typeof value === 'object' && value !== null && Array.isArray((value as { Records?: unknown }).Records)
      ? ((value as { Records: unknown[] }).Records as unknown[])
      : null;
  if (array === null) return null;
  const cut: Buffer[] = [];
  await splitRecords(
    (async function* () {
      yield doc;
    })(),
    '',
    { documents: true, limits: { ...DEFAULT_LIMITS, maxLineBytes: MAX_DOCUMENT_BYTES } },
    (line) => {
      if (line !== null) cut.push(Buffer.from(line));
    },
  );
  // The splitter reads `[` or `{"Records":[` at the start; a `Records` member after others is
  // re-serialised (its numbers as JavaScript reads them).
  return cut.length === array.length ? cut : array.map((e) => Buffer.from(JSON.stringify(e)));
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
  let rows = 0;
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
      Buffer.from(`{"key":${JSON.stringify(o.key)},"position":${position},`);
    const records = new RecordsOfLines((row) => {
      rows += 1;
      gz.write(
        'record' in row
          ? Buffer.concat([prefix(row.position), RECORD, row.record, CLOSE])
          : Buffer.concat([
              prefix(row.position),
              Buffer.from(`"problem":${JSON.stringify(row.problem)}`),
              CLOSE,
            ]),
      );
    });
    const scan = await scanTextFile(
      source,
      o.key,
      gzip,
      { documents: true, limits },
      records.sink,
      // Backpressure: the next chunk is read once the gzip stream has taken the last one's lines.
      async () => {
        if (gz.writableNeedDrain) await new Promise((done) => gz.once('drain', done));
      },
    );
    // What the intake hands the engine: nothing when it kept no record (the file is not read).
    if (scan.kept > 0) await records.end(scan.clean);
    else rows = 0;
    gz.end();
    await written;
    input = scan.input;
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
    rows = 0;
  }
  const staged = rows > 0 ? keys.records : null;
  if (staged !== null) await bucket.putOnce(staged, target, 'application/x-ndjson');
  const account: StagedAccount = { version: 1, input, sha256, staged };
  await writeFile(accountPath, JSON.stringify(account));
  await bucket.putOnce(keys.account, accountPath, 'application/json');
  return fileOf(bucket, o, account, false);
}

const RECORD = Buffer.from('"record":');
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
 * Stages every delivered object of a local logs root (laid out as the bucket) for a staged table
 * spec (format `records`): the days span the first to the last day folder found under its
 * `stagedFrom`. For Trino over local files (`sessiontrail trino-tables` with a `local://`
 * location, and the tests).
 * @returns the staged files, as {@link stageRecords}; none when the spec is not staged or the
 *   folder holds no day.
 */
export async function stageLocalFolder(root: string, spec: RawTableSpec): Promise<readonly StagedFile[]> {
  if (spec.stagedFrom === undefined) return [];
  const dir = join(root, ...spec.stagedFrom.split('/'));
  const delivered = deliveredLayoutOf(spec);
  const days = (await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []))
    .filter((e) => e.isFile())
    .map((e) => dayOfKey(delivered, relative(root, join(e.parentPath, e.name)).split(sep).join('/')))
    .filter((d) => d !== null)
    .sort();
  const first = days[0];
  const last = days[days.length - 1];
  if (first === undefined || last === undefined) return [];
  // No delivery lag here: every day folder present is named.
  const table = { ...sourceTableOf(spec, { database: 'local' }), lagDays: 0 };
  return stageRecords(folderStagingBucket(root), table, Date.parse(first), Date.parse(last) + DAY_MS);
}
