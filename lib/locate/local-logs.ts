/**
 * Finds a source's log files on local disk for one pack, and takes each one in
 * ({@link intakeTextFile}): a folder laid out like the S3 bucket (`<root>/<source>/`, whose
 * `dt=YYYY-MM-DD` folders are pruned to the days the pack reads; files outside any `dt=` folder
 * are read too, their days taken from their records), a plain folder (every log file below it),
 * or a single file.
 *
 * Paths are taken literally: the tree is walked here, symbolic links to files and folders are
 * followed (a folder reached twice, e.g. through a link loop, and a file reached twice are read
 * once and listed as skipped), and the engine reads each file through a link with a neutral name,
 * so that `[`, `?` and `*` in a name are never a glob. Rotated names (`auth.log.1`,
 * `a.json.2.gz`) are log files. Every file found is in {@link LocalInput.inputs} with its status, size and sha256.
 */
import { createReadStream, rmSync } from 'node:fs';
import { mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join, relative, sep } from 'node:path';
import { createGunzip } from 'node:zlib';
import { SessiontrailError } from '../errors.ts';
import { SOURCE_NAMES, SOURCES, type SourceDefinition } from '../sources/index.ts';
import { dayOfKey, deliveredLayoutOf, type RawTableSpec } from '../sources/raw-table.ts';
import { intakeConcurrency, mapInOrder } from './in-order.ts';
import { IntakePool } from './intake-pool.ts';
import { checkLogsPath, detectLocalSources } from './local-sources.ts';
import {
  DEFAULT_LIMITS,
  type InputFile,
  type IntakeLimits,
  intakeParquetFile,
  intakeTextFile,
  StoredDigest,
} from './log-intake.ts';
import type { InputObject, RawLogLocator } from './raw-log-locator.ts';

export type { InputFile, IntakeLimits } from './log-intake.ts';

export interface LocalFile {
  /** Where DuckDB reads it. */
  readonly path: string;
  /** The name recorded in the pack (relative to the logs root, `/`-separated): deterministic across machines. */
  readonly key: string;
}

/** A file, or lines of it, that could not be read, counted among the source's rejected records. */
export interface FileProblem {
  readonly key: string;
  /** `unreadable_file`, `truncated_gzip`, `decompressed_too_large`, `invalid_utf8`, … */
  readonly reason: string;
  /** Records rejected (1 for a whole file). */
  readonly count: number;
  /** The first positions (`<key>#line=N`, `<key>#record=N`), or the file's key. */
  readonly examples: readonly string[];
}

export interface LocalInput {
  readonly files: readonly LocalFile[];
  /**
   * Every file found for the source, sorted by key: what became of it, its size and sha256 as
   * stored, and the range read (what the pack lists).
   */
  readonly inputs: readonly InputObject[];
  readonly problems: readonly FileProblem[];
  /**
   * The intake replaced every line holding JSON's lenient extras (`IntakeOptions.jsonLines`, from
   * the source's `jsonLines`): what the located input says (`RawInput.lenientJsonMarked`).
   */
  readonly lenientJsonMarked: boolean;
  /** Removes the scratch folder (links and rewritten files). */
  cleanup(): Promise<void>;
}

const LOG_FILE = /\.(json|jsonl|ndjson|log)(\.\d{1,3})?(\.gz)?$/i;
const PARQUET_FILE = /\.parquet$/i;
/** Control bytes a source's own format writes inside a line: auditd ENRICHED's 0x1D (auditd.conf(5)). */
const FORMAT_CONTROL_BYTES: Readonly<Record<string, readonly number[]>> = { linux_auditd: [0x1d] };

/** A file the walk found, or passed over with a reason. */
interface Found {
  readonly path: string;
  readonly key: string;
  readonly skip?: string;
}

/**
 * Lists the files of `source` under `logs` for the days `[fromMs, toMs)` touch and takes each in.
 * `poolMinBytes`: from this size of text files on disk, worker threads take them in (the same
 * decisions, {@link INTAKE_POOL_MIN_BYTES}).
 * @throws SessiontrailError `LOGS_NOT_FOUND` when `logs` does not exist, cannot be read, or is
 *   neither a folder nor a regular file ({@link checkLogsPath}).
 */
export async function findLocalLogs(
  logs: string,
  source: string,
  fromMs: number,
  toMs: number,
  limits: IntakeLimits = DEFAULT_LIMITS,
  poolMinBytes: number = INTAKE_POOL_MIN_BYTES,
): Promise<LocalInput> {
  const { isFile } = await checkLogsPath(logs);
  const definition = SOURCES[source];
  if (definition === undefined)
    throw new SessiontrailError(
      'BAD_REQUEST',
      `unknown source ${source}: known are ${SOURCE_NAMES.join(', ')}`,
    );
  const found = await discover(logs, isFile, definition, fromMs, toMs);
  found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  const scratch = await mkdtemp(join(tmpdir(), 'sessiontrail-input-'));
  trackScratch(scratch);
  const files: LocalFile[] = [];
  const objects: InputObject[] = [];
  const problems: FileProblem[] = [];
  const lanes = intakeConcurrency(availableParallelism());
  const jsonLines = definition.jsonLines === true;
  const pool = (await textBytes(found)) >= poolMinBytes ? new IntakePool(lanes) : null;
  try {
    // Several files at once (each file's gzip inflates on libuv's thread pool while the main
    // thread, or a worker thread for a large input, checks another's lines), every list still in
    // the files' order (mapInOrder); each file streams, so memory is a few chunks and at most one
    // line per file in flight.
    const taken = await mapInOrder(found, lanes, async (file, n) => {
      if (file.skip !== undefined) return { file, object: skippedObject(file.key, file.skip), taken: null };
      if (PARQUET_FILE.test(file.path)) {
        const taken = await intakeParquetFile(file.path, file.key);
        return { file, object: await inputObject(file.path, taken.input), taken };
      }
      const options = {
        documents: definition.localFiles?.documents === true,
        limits,
        formatControlBytes: FORMAT_CONTROL_BYTES[source] ?? [],
        // evtx_dump's `-o json` output (Record headers, pretty-printed records) is Windows' only
        recordHeaders: source === 'windows',
        jsonLines,
      };
      if (pool === null) {
        const taken = await intakeTextFile(file.path, file.key, n, scratch, options);
        return { file, object: await inputObject(file.path, taken.input, taken.stored), taken };
      }
      const reply = await pool.run({ path: file.path, key: file.key, n, scratch, options });
      if (reply.error !== null || reply.input === null)
        throw new Error(`taking in ${file.key} failed: ${reply.error ?? 'no answer'}`);
      if (reply.storedError !== null)
        throw new SessiontrailError('LOGS_NOT_FOUND', `cannot read ${file.path} to record its digest`, {
          cause: reply.storedError,
        });
      const input = reply.input;
      const stored = input.status === 'unreadable' ? { size: null, sha256: null } : reply.stored;
      if (stored === null) throw new Error(`taking in ${file.key} gave no digest`);
      const object = listedObject(input, stored);
      return { file, object, taken: { input, readPath: reply.readPath } };
    });
    for (const { file, object, taken: t } of taken) {
      objects.push(object);
      if (t === null) continue;
      if (t.readPath !== null) files.push({ path: t.readPath, key: file.key });
      problems.push(...problemsOf(t.input));
    }
  } catch (err) {
    await removeScratch(scratch);
    throw err;
  } finally {
    await pool?.close();
  }
  return {
    files,
    problems,
    inputs: objects,
    lenientJsonMarked: jsonLines,
    cleanup: () => removeScratch(scratch),
  };
}

/** Scratch folders not yet removed: removed at process exit if an export ends without cleanup. */
const OPEN_SCRATCH = new Set<string>();
let exitHookInstalled = false;
function trackScratch(dir: string): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const d of OPEN_SCRATCH) rmSync(d, { recursive: true, force: true });
    });
  }
  OPEN_SCRATCH.add(dir);
}
async function removeScratch(dir: string): Promise<void> {
  OPEN_SCRATCH.delete(dir);
  await rm(dir, { recursive: true, force: true });
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

/**
 * Every log file below `root` (names relative to `keyRoot`), following symbolic links. A folder or
 * file reached a second time (a link loop, two links to one target) is listed as skipped; files
 * whose names are no log names, and what is neither file nor folder, are listed as skipped too.
 */
async function walk(
  root: string,
  keyRoot: string,
  prune: (dirKey: string) => boolean = () => false,
  parquet = false,
): Promise<Found[]> {
  const out: Found[] = [];
  const seen = new Set<string>();
  const keyOf = (path: string) => relative(keyRoot, path).split(sep).join('/') || basename(path);
  const visit = async (dir: string): Promise<void> => {
    const id = await stat(dir).then(
      (s) => `${s.dev}:${s.ino}`,
      () => null,
    );
    if (id !== null) {
      if (seen.has(id)) {
        out.push({ path: dir, key: `${keyOf(dir)}/`, skip: 'folder_already_read' });
        return;
      }
      seen.add(id);
    }
    let entries: string[];
    try {
      entries = (await readdir(dir)).sort();
    } catch {
      out.push({ path: dir, key: `${keyOf(dir)}/`, skip: 'unreadable_folder' });
      return;
    }
    for (const name of entries) {
      const path = join(dir, name);
      let s: Awaited<ReturnType<typeof stat>>;
      try {
        s = await stat(path);
      } catch {
        out.push({ path, key: keyOf(path), skip: 'broken_link' });
        continue;
      }
      if (s.isDirectory()) {
        if (!prune(`${keyOf(path)}/`)) await visit(path);
        continue;
      }
      if (!s.isFile()) {
        out.push({ path, key: keyOf(path), skip: 'not_a_regular_file' });
        continue;
      }
      if (!(LOG_FILE.test(name) || (parquet && PARQUET_FILE.test(name)))) {
        out.push({ path, key: keyOf(path), skip: 'not_a_log_file_name' });
        continue;
      }
      const fileId = `${s.dev}:${s.ino}`;
      if (seen.has(fileId)) {
        out.push({ path, key: keyOf(path), skip: 'file_already_read' });
        continue;
      }
      seen.add(fileId);
      out.push({ path, key: keyOf(path) });
    }
  };
  await visit(root);
  return out;
}

/**
 * A source's files under `logs`, found by its raw-table layout ({@link RawTableSpec}) so that a new
 * source needs nothing here:
 * - a layout like the S3 bucket (`<logs>/<first folder of the table's location>/`): every log file
 *   below it, each folder and file whose key names a day partition (read with the table's location
 *   template, {@link dayOfKey}) kept only for the days of the window plus the table's delivery lag
 *   (CloudTrail lands a file in its delivery day's folder, up to about 15 minutes after its events),
 *   as Athena and Trino prune the same table; files outside any day folder are read too;
 * - a plain folder: every log file, or, for a source that says which files are its own
 *   ({@link LocalFiles.recognises}), those (so one folder can hold several sources);
 * - one file: read, unless the source says it is not its own.
 */
async function discover(
  logs: string,
  isFile: boolean,
  source: SourceDefinition,
  fromMs: number,
  toMs: number,
): Promise<Found[]> {
  // The files as delivered (CloudTrail's own layout, not the staged copies its table reads).
  const spec = deliveredLayoutOf(source.rawTable);
  const recognises = source.localFiles?.recognises;
  const own = (path: string) =>
    recognises === undefined ? Promise.resolve(true) : recognises(path, () => head(path));
  if (isFile) return (await own(logs)) ? [{ path: logs, key: basename(logs) }] : [];
  const parquet = spec.format === 'parquet';
  const layout = join(logs, spec.location.split('/')[0] as string);
  if (await isDir(layout)) {
    const first = day(fromMs);
    const last = day(Math.max(fromMs, toMs - 1) + spec.deliveryLagDays * 86_400_000);
    const inWindow = (key: string) => {
      const d = dayOfKey(spec, key);
      return d === null || (d >= first && d <= last);
    };
    return (await walk(layout, logs, (dirKey) => !inWindow(dirKey), parquet)).filter(
      (f) => f.skip !== undefined || inWindow(f.key),
    );
  }
  const out: Found[] = [];
  for (const f of await walk(logs, logs, () => false, parquet)) {
    // In a plain folder another source's files are not this source's to list.
    if (
      f.skip === undefined ? await own(f.path) : recognises === undefined || f.skip !== 'not_a_log_file_name'
    )
      out.push(f);
  }
  return out;
}

/** The first 64 KiB of a file (decompressed when its bytes say gzip), as text; empty when unreadable. */
async function head(path: string): Promise<string> {
  const limit = 64 * 1024;
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    const fh = await open(path, 'r');
    const magic = Buffer.alloc(2);
    await fh.read(magic, 0, 2, 0).finally(() => fh.close());
    const gzip = magic[0] === 0x1f && magic[1] === 0x8b;
    const input = createReadStream(path, gzip ? {} : { end: limit - 1 });
    const stream = gzip ? input.pipe(createGunzip()) : input;
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
 * every file found and what was wrong with it; the sources are the `<source>/` folders of `logs`
 * ({@link detectLocalSources}); `limits` bound each file ({@link IntakeLimits}).
 * `locate` throws SessiontrailError `LOGS_NOT_FOUND` as {@link findLocalLogs}.
 */
export function localLocator(logs: string, limits: IntakeLimits = DEFAULT_LIMITS): RawLogLocator {
  return {
    sources: () => detectLocalSources(logs, SOURCE_NAMES),
    async locate(source, fromMs, toMs) {
      const found = await findLocalLogs(logs, source, fromMs, toMs, limits);
      return {
        input: {
          kind: 'files' as const,
          files: found.files,
          // the intake marked every line with JSON's lenient extras (IntakeOptions.jsonLines)
          ...(found.lenientJsonMarked ? { lenientJsonMarked: true } : {}),
        },
        problems: found.problems,
        inputs: found.inputs,
        cleanup: found.cleanup,
      };
    },
  };
}

/**
 * The problems of a file taken in: a damaged file whose readable part is read (cut gzip) counts as
 * one rejected record, as does a file of which nothing is read; its lines' (or records')
 * rejections are counted one by one. The local reader and the CloudTrail staging report them so.
 */
export function problemsOf(taken: InputFile): FileProblem[] {
  const problems: FileProblem[] = [];
  if ((taken.status === 'damaged' || taken.status === 'unreadable') && taken.reason !== null)
    problems.push({ key: taken.key, reason: taken.reason, count: 1, examples: [taken.key] });
  for (const r of taken.rejected) problems.push({ key: taken.key, ...r });
  return problems;
}

/** A file passed over, as the pack lists it. */
function skippedObject(key: string, reason: string): InputObject {
  return {
    key,
    status: 'skipped',
    reason,
    size: null,
    sha256: null,
    s3: null,
    records: null,
    range: null,
  };
}

/**
 * A file taken in, as the pack lists it: what became of it, its size and sha256 as stored unless it
 * could not be opened (chain of custody), and the range read (every file is read from its start).
 * `digest`: fed by the intake's read of the file, finished here (no second read of what it read).
 */
async function inputObject(path: string, taken: InputFile, digest?: StoredDigest): Promise<InputObject> {
  const opened = taken.status !== 'unreadable';
  return listedObject(taken, opened ? await sizeAndDigest(path, digest) : { size: null, sha256: null });
}

/**
 * Input data of this size on disk or more (text files) is taken in by worker threads
 * ({@link IntakePool}): starting them costs a fraction of a second, which a smaller input would
 * not win back. Measured in bench/RESULTS.md ("Intake").
 */
export const INTAKE_POOL_MIN_BYTES = 64 * 1024 * 1024;

/** The size on disk of the text files found (those the intake reads line by line). */
async function textBytes(found: readonly Found[]): Promise<number> {
  let total = 0;
  for (const f of found)
    if (f.skip === undefined && !PARQUET_FILE.test(f.path))
      total += await stat(f.path).then(
        (s) => s.size,
        () => 0,
      );
  return total;
}

function listedObject(taken: InputFile, stored: { size: number | null; sha256: string | null }): InputObject {
  const readAny = (taken.status === 'read' || taken.status === 'damaged') && taken.bytes > 0;
  return {
    key: taken.key,
    status: taken.status,
    reason: taken.reason,
    size: stored.size,
    sha256: stored.sha256,
    s3: null,
    records: taken.records,
    range: readAny
      ? { bytes: taken.bytes, last_line: taken.lines !== null && taken.lines > 0 ? taken.lines : null }
      : null,
  };
}

/** Size and sha256 of a file as stored, streamed (log files can be large), from what `digest` was fed on. */
async function sizeAndDigest(
  path: string,
  digest = new StoredDigest(),
): Promise<{ size: number; sha256: string }> {
  try {
    return await digest.finish(path);
  } catch (cause) {
    throw new SessiontrailError('LOGS_NOT_FOUND', `cannot read ${path} to record its digest`, { cause });
  }
}

/**
 * `tables` (a locator whose engine reads the raw tables itself, e.g. Trino's Hive tables over a
 * `local://` logs root) with the list of inputs of the same local folder for each source whose
 * table lists none itself (a staged table lists its own), made by the one local
 * intake ({@link findLocalLogs}), so a pack built on either engine from one folder lists the same
 * files. The list is given only when it is certainly what the table read: every file found was
 * read whole, with no record rejected, none passed over (a Hive table reads every file of its
 * folders, whatever its name; the intake reads only log names and may reject lines), and each in a
 * day partition of the source's table (a partitioned table does not read files outside its
 * partition folders; the intake reads them too). Otherwise no
 * list, never one that could differ from what the engine read: the pack then lists none.
 */
export function withLocalInputs(
  tables: RawLogLocator,
  logs: string,
  limits: IntakeLimits = DEFAULT_LIMITS,
): RawLogLocator {
  return {
    sources: () => tables.sources(),
    async locate(source, fromMs, toMs) {
      const located = await tables.locate(source, fromMs, toMs);
      // A staged table (CloudTrail) lists what its staging read: that list stands.
      if (located.inputs !== undefined) return located;
      let local: LocalInput;
      try {
        local = await findLocalLogs(logs, source, fromMs, toMs, limits);
      } catch (err) {
        await located.cleanup();
        throw err;
      }
      await local.cleanup();
      const spec = SOURCES[source]?.rawTable;
      const wholeAndClean =
        spec !== undefined &&
        local.problems.length === 0 &&
        local.inputs.every((i) => i.status === 'read' && i.reason === null && dayOfKey(spec, i.key) !== null);
      return wholeAndClean ? { ...located, inputs: local.inputs } : located;
    },
  };
}
