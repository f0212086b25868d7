/**
 * Finds a source's log files on local disk for one pack: a folder laid out like the S3 bucket
 * (`<root>/<source>/dt=YYYY-MM-DD/*.json[.gz]`, pruned to the days the pack reads), a plain folder
 * (every `.json`, `.jsonl`, `.ndjson`, `.log` file below it, optionally gzipped), or a single file.
 *
 * Gzip files are checked end to end first: DuckDB reads a truncated gzip file's prefix without any
 * error, so without this check a cut-off file would lose its tail silently. A damaged file's
 * readable prefix is recovered into a scratch file and still used; the damage is reported.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { SessiontrailError } from '../errors.ts';

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
  if (info.isFile()) {
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
  let scratch: string | null = null;
  for (const file of found) {
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

async function listRecursive(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && LOG_FILE.test(entry.name)) out.push(join(entry.parentPath, entry.name));
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
