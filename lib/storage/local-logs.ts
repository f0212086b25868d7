/**
 * Finds a source's log files on local disk for one pack: a folder laid out like the S3 bucket
 * (`<root>/<source>/dt=YYYY-MM-DD/*.json[.gz]`, pruned to the days the pack reads), a plain folder
 * (every `.json`, `.jsonl`, `.ndjson`, `.log` file below it, optionally gzipped), or a single file.
 *
 * Gzip files are checked end to end first: DuckDB reads a truncated gzip file's prefix without any
 * error, so without this check a cut-off file would lose its tail silently. A damaged file's
 * readable prefix is recovered into a scratch file and still used; the damage is reported.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { SessiontrailError } from '../errors.ts';
import type { InputObject, RawLogLocator } from '../locate/raw-log-locator.ts';
import { SOURCE_NAMES } from '../sources/index.ts';
import { detectLocalSources } from './local-sources.ts';

export interface LocalFile {
  /** Where DuckDB reads it. */
  readonly path: string;
  /** The name recorded in the pack (relative to the logs root, `/`-separated): deterministic across machines. */
  readonly key: string;
}

export interface FileProblem {
  readonly key: string;
  readonly reason: 'truncated_gzip' | 'unreadable_file';
  readonly detail: string;
}

export interface LocalInput {
  readonly files: readonly LocalFile[];
  /** Each file found, as stored: key, size and sha256 (what the pack lists as read). */
  readonly inputs: readonly InputObject[];
  readonly problems: readonly FileProblem[];
  /** Removes scratch files made for recovered prefixes. */
  cleanup(): Promise<void>;
}

const LOG_FILE = /\.(json|jsonl|ndjson|log)(\.gz)?$/i;
const DAY_PARTITION = /^dt=(\d{4}-\d{2}-\d{2})$/;

/**
 * Lists the files of `source` under `logs` for the days `[fromMs, toMs)` touch.
 * @throws SessiontrailError `LOGS_NOT_FOUND` when `logs` does not exist or cannot be read.
 */
export async function findLocalLogs(
  logs: string,
  source: string,
  fromMs: number,
  toMs: number,
): Promise<LocalInput> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(logs);
  } catch (cause) {
    throw new SessiontrailError(
      'LOGS_NOT_FOUND',
      `cannot read the logs at ${logs}: give --logs a folder or file that exists`,
      { cause },
    );
  }
  let found: LocalFile[];
  const own = OWN_DISCOVERY[source];
  if (own !== undefined) {
    found = await own(logs, info.isFile(), fromMs, toMs);
  } else if (info.isFile()) {
    found = [{ path: logs, key: basename(logs) }];
  } else {
    const partitioned = join(logs, source);
    const hasLayout = await isDir(partitioned);
    const root = hasLayout ? partitioned : logs;
    const paths = hasLayout ? await listPartitions(partitioned, fromMs, toMs) : await listRecursive(logs);
    found = paths.map((path) => ({
      path,
      key: relative(hasLayout ? logs : root, path)
        .split(sep)
        .join('/'),
    }));
  }
  found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  const problems: FileProblem[] = [];
  const files: LocalFile[] = [];
  const inputs: InputObject[] = [];
  let scratch: string | null = null;
  for (const file of found) {
    inputs.push({ key: file.key, ...(await sizeAndDigest(file.path)) });
    if (!file.path.toLowerCase().endsWith('.gz')) {
      files.push(file);
      continue;
    }
    const damage = await gzipDamage(file.path);
    if (damage === null) {
      files.push(file);
      continue;
    }
    scratch ??= await mkdtemp(join(tmpdir(), 'sessiontrail-recovered-'));
    const recovered = join(scratch, `${files.length}-${basename(file.path).replace(/\.gz$/i, '')}`);
    await recoverPrefix(file.path, recovered);
    problems.push({ key: file.key, reason: 'truncated_gzip', detail: damage });
    files.push({ path: recovered, key: file.key });
  }
  const dir = scratch;
  return {
    files,
    inputs,
    problems,
    cleanup: async () => {
      if (dir !== null) await rm(dir, { recursive: true, force: true });
    },
  };
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

async function listPartitions(root: string, fromMs: number, toMs: number): Promise<string[]> {
  const first = day(fromMs);
  const last = day(toMs - 1);
  const out: string[] = [];
  for (const entry of await readdir(root, { withFileTypes: true })) {
    const m = DAY_PARTITION.exec(entry.name);
    if (!entry.isDirectory() || m === null) continue;
    const d = m[1] as string;
    if (d < first || d > last) continue;
    out.push(...(await listRecursive(join(root, entry.name))));
  }
  return out;
}

async function listRecursive(root: string, parquet = false): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && (LOG_FILE.test(entry.name) || (parquet && PARQUET_FILE.test(entry.name))))
      out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

/** Decompresses the whole file; returns why it failed, or null when it is intact. */
async function gzipDamage(path: string): Promise<string | null> {
  try {
    await pipeline(createReadStream(path), createGunzip(), async (source) => {
      for await (const _ of source) {
        // drain
      }
    });
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Writes what can be decompressed of a damaged gzip file. */
async function recoverPrefix(path: string, target: string): Promise<void> {
  const out = createWriteStream(target);
  // Flush what each block yields so that a cut in the last block still gives its whole lines.
  const gunzip = createGunzip({ finishFlush: 2 /* Z_SYNC_FLUSH */ });
  await new Promise<void>((resolve) => {
    const input = createReadStream(path);
    const done = () => out.end(() => resolve());
    gunzip.on('data', (chunk: Buffer) => out.write(chunk));
    gunzip.on('error', done);
    gunzip.on('end', done);
    input.on('error', done);
    input.pipe(gunzip);
  });
}

/**
 * Sources whose files are found their own way (the others use `<source>/dt=YYYY-MM-DD/`):
 * - `cloudtrail`: `<logs>/cloudtrail/AWSLogs/[<org-id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/`
 *   as CloudTrail delivers to S3, pruned to the days read plus the next day (a file is delivered
 *   up to about 15 minutes after its events, into the folder of its delivery day); else a plain
 *   folder or one file, keeping only files that hold CloudTrail records (below).
 * - `ocsf`: Parquet and JSON files under `<logs>/ocsf/` (Security Lake's `region=…/accountId=…/
 *   eventDay=YYYYMMDD/` folders pruned by day), else a plain folder or one file, keeping Parquet
 *   files and JSON files that hold OCSF records.
 * In a plain folder the other sources' files are left out, so that one `--logs` folder can hold
 * several sources.
 */
const OWN_DISCOVERY: Readonly<
  Record<string, (logs: string, isFile: boolean, fromMs: number, toMs: number) => Promise<LocalFile[]>>
> = {
  cloudtrail: (logs, isFile, fromMs, toMs) =>
    discoverOwn(logs, isFile, 'cloudtrail', fromMs, toMs, isCloudTrailFile, cloudTrailDay),
  ocsf: (logs, isFile, fromMs, toMs) => discoverOwn(logs, isFile, 'ocsf', fromMs, toMs, isOcsfFile, ocsfDay),
};

const CLOUDTRAIL_DAY = /\/CloudTrail(?:-[A-Za-z]+)?\/[a-z0-9-]+\/(\d{4})\/(\d{2})\/(\d{2})\//;
const OCSF_DAY = /\/eventDay=(\d{4})(\d{2})(\d{2})\//i;
const PARQUET_FILE = /\.parquet$/i;

function cloudTrailDay(path: string): string | null {
  const m = CLOUDTRAIL_DAY.exec(path.split(sep).join('/'));
  return m === null ? null : `${m[1]}-${m[2]}-${m[3]}`;
}

function ocsfDay(path: string): string | null {
  const m = OCSF_DAY.exec(path.split(sep).join('/'));
  return m === null ? null : `${m[1]}-${m[2]}-${m[3]}`;
}

async function discoverOwn(
  logs: string,
  isFile: boolean,
  source: string,
  fromMs: number,
  toMs: number,
  belongs: (path: string) => Promise<boolean>,
  dayOf: (path: string) => string | null,
): Promise<LocalFile[]> {
  if (isFile) return (await belongs(logs)) ? [{ path: logs, key: basename(logs) }] : [];
  const layout = join(logs, source);
  if (await isDir(layout)) {
    const first = day(fromMs);
    // The day after the last: files are delivered after their events (see OWN_DISCOVERY).
    const last = day(toMs - 1 + 86_400_000);
    const paths = (await listRecursive(layout, true)).filter((path) => {
      const d = dayOf(path);
      return d === null || (d >= first && d <= last);
    });
    return paths.map((path) => ({ path, key: relative(logs, path).split(sep).join('/') }));
  }
  const out: LocalFile[] = [];
  for (const path of await listRecursive(logs, true)) {
    if (await belongs(path)) out.push({ path, key: relative(logs, path).split(sep).join('/') });
  }
  return out;
}

/** Named as CloudTrail names its files, or in a `CloudTrail` folder, or its first bytes say so. */
async function isCloudTrailFile(path: string): Promise<boolean> {
  if (PARQUET_FILE.test(path)) return false;
  if (/_CloudTrail_/.test(basename(path)) || /(^|[\\/])CloudTrail[\\/]/.test(path)) return true;
  return /"(eventVersion|eventSource)"\s*:/.test(await head(path));
}

/** Parquet, or JSON whose first bytes hold an OCSF `class_uid`. */
async function isOcsfFile(path: string): Promise<boolean> {
  if (PARQUET_FILE.test(path)) return true;
  return /"class_uid"\s*:/.test(await head(path));
}

/** The first 64 KiB of a file (decompressed when gzip), as text; empty when unreadable. */
async function head(path: string): Promise<string> {
  const limit = 64 * 1024;
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    const input = createReadStream(path, path.toLowerCase().endsWith('.gz') ? {} : { end: limit - 1 });
    const stream = path.toLowerCase().endsWith('.gz') ? input.pipe(createGunzip()) : input;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) break;
    }
    input.destroy();
  } catch {
    // a damaged file: what was read is enough to decide
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

/**
 * The locator of a local export: a source's files under `logs` for the days `[fromMs, toMs)`, with
 * the damaged files reported; the sources are the `<source>/` folders of `logs`
 * ({@link detectLocalSources}).
 * `locate` throws SessiontrailError `LOGS_NOT_FOUND` as {@link findLocalLogs}.
 */
export function localLocator(logs: string): RawLogLocator {
  return {
    sources: () => detectLocalSources(logs, SOURCE_NAMES),
    async locate(source, fromMs, toMs) {
      const found = await findLocalLogs(logs, source, fromMs, toMs);
      return {
        input: { kind: 'files' as const, files: found.files },
        problems: found.problems,
        inputs: found.inputs,
        cleanup: found.cleanup,
      };
    },
  };
}

/** Size and sha256 of a file as stored, streamed (log files can be large). */
async function sizeAndDigest(path: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of createReadStream(path)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).byteLength;
    }
  } catch (cause) {
    throw new SessiontrailError('LOGS_NOT_FOUND', `cannot read ${path} to record its digest`, { cause });
  }
  return { size, sha256: hash.digest('hex') };
}
