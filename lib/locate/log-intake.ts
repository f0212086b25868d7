/**
 * Reads each local log file once, before the engine does, so that no byte of it can stop an export
 * and none is lost without a count (issue "nothing lost, nothing stops it"):
 * - gzip is recognised by its magic bytes, not by its name (a plain file named `.gz` is read as
 *   text), and read member by member to the real end: a truncated member keeps its readable prefix
 *   and is reported; bytes after the last member are reported and the records before them kept
 *   (DuckDB's reader loses the tail of such a file silently); the decompressed size is bounded, so a
 *   gzip bomb ends as a damaged file instead of filling memory and disk;
 * - every line is checked: not UTF-8 (`invalid_utf8`), a control character other than tab
 *   (`control_character`; JSON forbids them raw, RFC 8259 §7, and DuckDB's line reader fails on
 *   0x01, its column delimiter here), longer than the line limit (`line_too_long`); a line ending in
 *   CR LF loses its CR; blank and whitespace-only lines are no records, for every source;
 * - a whole JSON document (`{"Records":[…]}` as CloudTrail delivers it, or an array) is split into
 *   one line per record, so that one bad record rejects that record only.
 *
 * A clean file is handed to the engine as it is (through a link with a neutral name, so that no
 * reader reads its name as a glob); a file with anything to correct is rewritten once into a
 * scratch file where a line that is not a record becomes the single byte {@link LINE_MARKER}: the
 * readers drop those lines after numbering, so every position stays the line (or record) number
 * of the original file. Rejected lines are counted here, by reason, with their first positions.
 */

import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm, symlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { constants, crc32, createInflateRaw } from 'node:zlib';

/** The byte that stands for a line that is no record in a rewritten file (never in a kept line: it is a control character). */
export const LINE_MARKER = 0x02;

/**
 * The content of a line that held one of JSON's lenient extras outside its strings (see
 * {@link hasLenientJsonExtras}), in a rewritten file: one control byte, which no JSON reader
 * accepts, so the engine counts the line as `malformed_json` at its own position.
 */
export const NOT_JSON_MARKER = 0x03;

/** What became of one file found for a source. */
export type InputStatus = 'read' | 'skipped' | 'unreadable' | 'damaged';

/** Lines (or records of a document) rejected before the engine, by reason. */
export interface LineRejects {
  readonly reason: string;
  readonly count: number;
  /** The first positions, `<key>#line=N` (1-based) or `<key>#record=N` (0-based array index). */
  readonly examples: readonly string[];
}

/** One file found for a source, as the pack lists it. */
export interface InputFile {
  readonly key: string;
  readonly status: InputStatus;
  /** Why it was skipped, or what is wrong with it; null for a file read whole. */
  readonly reason: string | null;
  /**
   * Bytes read: after decompression for gzip (the same for the same lines however they are
   * compressed), the size on disk otherwise; 0 when nothing could be read.
   */
  readonly bytes: number;
  /** Lines read (after decompression), blank ones included; null when not read as text. */
  readonly lines: number | null;
  /** Records the file holds (non-blank lines, or the elements of a document); null when unknown (Parquet). */
  readonly records: number | null;
  readonly rejected: readonly LineRejects[];
}

export interface IntakeLimits {
  /** Largest decompressed size of one file; a larger file is damaged (`decompressed_too_large`) and not read. */
  readonly maxDecompressedBytes: number;
  /** Longest line (or document record). */
  readonly maxLineBytes: number;
}

/** 4 GiB per file, 16 MiB per line (DuckDB's line limit as the reader used it). */
export const DEFAULT_LIMITS: IntakeLimits = {
  maxDecompressedBytes: 4 * 1024 ** 3,
  maxLineBytes: 16 * 1024 ** 2,
};

export interface IntakeResult {
  readonly input: InputFile;
  /** What the engine reads; null when nothing of the file is to be read. */
  readonly readPath: string | null;
  /**
   * The digest of the file as stored, fed by the intake's own read of it, to be finished
   * ({@link StoredDigest.finish}) for the pack's input list; absent when the file was not read.
   */
  readonly stored?: StoredDigest;
}

/**
 * The size and sha256 of a file as stored (chain of custody), fed by the reads the intake makes
 * anyway, so that no file is read a second time for its digest: each read hands its bytes with
 * their offset, and the bytes that continue what was hashed are hashed (reads overlap, e.g. a gzip
 * member's header and its data). {@link finish} reads whatever the intake left unread (a file whose
 * reading stopped early: damaged, or over the size limit) and gives the digest of the whole file.
 */
export class StoredDigest {
  private readonly hash = createHash('sha256');
  private hashed = 0;

  /** `bytes` read at `offset`. A read that starts past what was hashed is left to {@link finish}. */
  feed(bytes: Buffer, offset: number): void {
    const end = offset + bytes.length;
    if (offset > this.hashed || end <= this.hashed) return;
    this.hash.update(bytes.subarray(this.hashed - offset));
    this.hashed = end;
  }

  /**
   * Reads the rest of the file at `path` from where the intake stopped, to its end.
   * @throws what reading the file throws.
   */
  async finish(path: string): Promise<{ size: number; sha256: string }> {
    for await (const chunk of createReadStream(path, { start: this.hashed, highWaterMark: CHUNK })) {
      this.hash.update(chunk as Buffer);
      this.hashed += (chunk as Buffer).length;
    }
    return { size: this.hashed, sha256: this.hash.digest('hex') };
  }
}

const MAX_EXAMPLES = 5;
const CHUNK = 1 << 20;

/** Why a gzip stream stopped early, if it did. */
interface GzipState {
  members: number;
  notGzip: boolean;
  /** Bytes after the last complete member that start no member. */
  trailing: number;
  damage: string | null;
  tooLarge: boolean;
  out: number;
}

/** How one source's text files are taken in. */
export interface IntakeOptions {
  /** The source's reader splits JSON documents into records (CloudTrail, OCSF). */
  readonly documents: boolean;
  readonly limits: IntakeLimits;
  /**
   * Control bytes that the source's format itself writes inside a line, which are therefore no
   * damage: auditd's ENRICHED format separates the interpreted fields with 0x1D (auditd.conf(5)).
   * @default none
   */
  readonly formatControlBytes?: readonly number[];
  /**
   * The source's files may come as `evtx_dump -o json` output (omerbenamram/evtx, src/bin/evtx_dump.rs:
   * a line `Record <id>` before each record, the record pretty-printed over several lines): such a
   * file is recognised by its first line and each record joined back into one JSON line.
   * @default false
   */
  readonly recordHeaders?: boolean;
  /**
   * Each line is one JSON record that the engine checks line by line: a line holding JSON's lenient
   * extras outside its strings ({@link hasLenientJsonExtras}) is kept as a record whose content is
   * {@link NOT_JSON_MARKER}, so that DuckDB, whose JSON reader accepts those extras, needs no
   * pattern over every byte of every line to refuse them (`RawInput.lenientJsonMarked`).
   * @default false
   */
  readonly jsonLines?: boolean;
}

/**
 * Takes one text file in: checks it and either links it (clean) or rewrites it into `scratch`
 * under the name `<n>.json` (`n` the file's index). `documents`: the source's reader splits JSON
 * documents into records (CloudTrail, OCSF).
 */
export async function intakeTextFile(
  path: string,
  key: string,
  n: number,
  scratch: string,
  options: IntakeOptions,
): Promise<IntakeResult> {
  let bytes: number;
  let gzip: boolean;
  try {
    const fh = await open(path, 'r');
    try {
      bytes = (await fh.stat()).size;
      const magic = Buffer.alloc(2);
      const { bytesRead } = await fh.read(magic, 0, 2, 0);
      gzip = bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
    } finally {
      await fh.close();
    }
  } catch (err) {
    return unreadable(key, err);
  }
  let first: FileScan | null;
  // One digest for both reads: it hashes each stored byte once, in order, whichever read gets there.
  const stored = new StoredDigest();
  try {
    // Null at the first line that needs correcting (a CR LF file at its first line, a document at
    // once): such a file is read whole only once, as it is rewritten below.
    first = await readTextFile(path, key, gzip, { ...options, digest: stored }, null, undefined, true);
  } catch (err) {
    return unreadable(key, err, bytes);
  }
  if (first !== null) {
    if (first.kept === 0) return { input: first.input, readPath: null, stored };
    if (first.clean) {
      // Clean: the engine reads the file itself, through a link whose name is no glob and whose
      // extension says how it is compressed.
      const link = join(scratch, `${n}.json${gzip ? '.gz' : ''}`);
      // An absolute target: a relative one would be read from the scratch folder.
      await symlink(resolve(path), link);
      return { input: first.input, readPath: link, stored };
    }
  }
  // The rewrite reads the whole file: its account is the file's.
  const target = join(scratch, `${n}.json`);
  const out = createWriteStream(target);
  let rewritten: FileScan | null = null;
  let failure: unknown = null;
  try {
    rewritten = await scanTextFile(path, key, gzip, { ...options, digest: stored }, (line) => {
      if (line === null) out.write(MARKER_LINE);
      else {
        out.write(line);
        out.write(NEWLINE);
      }
    });
  } catch (err) {
    failure = err;
  } finally {
    await new Promise<void>((resolve, reject) =>
      out.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
  }
  if (rewritten === null || rewritten.kept === 0) {
    await rm(target, { force: true });
    if (rewritten === null) return unreadable(key, failure, bytes);
    return { input: rewritten.input, readPath: null, stored };
  }
  return { input: rewritten.input, readPath: target, stored };
}

/**
 * Receives each line (or document record) of a file in order, with its position (0-based: the
 * line's index, or the record's index in the document's array): the kept bytes (without line
 * break), or null for a line that is no record (blank, or rejected and counted).
 */
export type RecordSink = (line: Buffer | null, position: number) => void;

/** What {@link scanTextFile} found: the file's account, and whether the engine can read it as it is. */
export interface FileScan {
  readonly input: InputFile;
  /** Records kept (handed to the sink as lines). */
  readonly kept: number;
  /** True when nothing needs correcting: the file can be read as stored. */
  readonly clean: boolean;
}

/** How {@link scanTextFile} reads a file. */
export interface ScanOptions {
  readonly documents: boolean;
  readonly limits: IntakeLimits;
  readonly jsonLines?: boolean;
  /** Fed with every byte of the file read, in order ({@link StoredDigest}). */
  readonly digest?: StoredDigest;
}

/**
 * Reads one text file as the intake does (gzip by its magic bytes, member by member; see the top of
 * this file) and runs {@link splitRecords} over its bytes. The one reader of a file's content: the
 * local intake and the record staging (lib/locate/record-staging.ts) both call it.
 * @throws what reading the file throws (the caller reports it as unreadable).
 */
export async function scanTextFile(
  path: string,
  key: string,
  gzip: boolean,
  options: ScanOptions,
  sink: RecordSink | null,
  pace?: () => Promise<void>,
): Promise<FileScan> {
  // without stopAtRewrite the read never stops early, so there is always an account
  return (await readTextFile(path, key, gzip, options, sink, pace, false)) as FileScan;
}

/**
 * {@link scanTextFile}, or, with `stopAtRewrite`, null as soon as a line needs correcting: the
 * read stops after that chunk, and the file is to be read again whole, as it is rewritten.
 */
async function readTextFile(
  path: string,
  key: string,
  gzip: boolean,
  options: ScanOptions,
  sink: RecordSink | null,
  pace: (() => Promise<void>) | undefined,
  stopAtRewrite: boolean,
): Promise<FileScan | null> {
  const gz: GzipState = { members: 0, notGzip: false, trailing: 0, damage: null, tooLarge: false, out: 0 };
  const chunks = gzip
    ? gunzipFile(path, gz, options.limits.maxDecompressedBytes, options.digest)
    : plainFile(path, gz, options.limits, options.digest);
  const split = await splitRecords(chunks, key, { ...options, stopAtRewrite }, sink, pace);
  if (split.stopped) return null;
  if (gz.tooLarge)
    return { input: damagedInput(key, 'decompressed_too_large', gz.out), kept: 0, clean: false };
  const reason = gz.damage ?? (gz.trailing > 0 ? 'trailing_bytes' : null);
  const empty = split.kept === 0 && split.rejectedTotal === 0 && reason === null;
  return {
    input: {
      key,
      status: empty ? 'skipped' : reason === null ? 'read' : 'damaged',
      reason: empty ? 'empty_file' : reason,
      bytes: gz.out,
      lines: split.lines,
      records: split.kept + split.rejectedTotal,
      rejected: split.rejected,
    },
    kept: split.kept,
    clean: !split.needsRewrite && reason === null && gz.members <= 1,
  };
}

/** What {@link splitRecords} counted. */
export interface SplitAccount {
  /** Lines read; null for a JSON document (its records are counted instead). */
  readonly lines: number | null;
  readonly kept: number;
  readonly rejectedTotal: number;
  /** Rejected records by reason, with their first positions (`<key>#line=N` / `<key>#record=N`). */
  readonly rejected: readonly LineRejects[];
  /** True when some line was corrected, dropped or rejected, or the input was a document. */
  readonly needsRewrite: boolean;
  /** The read stopped early (`stopAtRewrite`) once `needsRewrite` became true. */
  readonly stopped: boolean;
}

/**
 * The splitter: decompressed bytes in, one line per record out (to `sink`), every line checked.
 * A JSON document (`{"Records":[…]}` as CloudTrail delivers it, or an array, when `documents`) is
 * split per record, streaming, so that one bad record is rejected alone; JSON lines are taken line
 * by line. Memory: one record (or line) at a time, at most `limits.maxLineBytes`; `pace` is awaited
 * after each chunk.
 */
export async function splitRecords(
  chunks: AsyncIterable<Buffer>,
  key: string,
  options: {
    readonly documents: boolean;
    readonly limits: IntakeLimits;
    readonly jsonLines?: boolean;
    readonly stopAtRewrite?: boolean;
  },
  sink: RecordSink | null,
  pace?: () => Promise<void>,
): Promise<SplitAccount> {
  const scanner = new Scanner(key, options, sink);
  let stopped = false;
  for await (const chunk of chunks) {
    scanner.push(chunk);
    // Leaving the loop ends the read (the generators' finally blocks close the file).
    if (options.stopAtRewrite === true && scanner.needsRewrite) {
      stopped = true;
      break;
    }
    // Lets a sink that writes to a stream catch up before the next chunk (bounded memory).
    if (pace !== undefined) await pace();
  }
  if (!stopped) scanner.end();
  return {
    lines: scanner.lines,
    kept: scanner.records,
    rejectedTotal: scanner.rejectedTotal,
    rejected: scanner.rejectSummary(),
    needsRewrite: scanner.needsRewrite,
    stopped,
  };
}

/** A Parquet file: whole when it starts and ends with `PAR1` (the format's magic, Apache Parquet spec). */
export async function intakeParquetFile(path: string, key: string): Promise<IntakeResult> {
  try {
    const fh = await open(path, 'r');
    try {
      const size = (await fh.stat()).size;
      if (size === 0)
        return { input: { ...damagedInput(key, 'empty_file', 0), status: 'skipped' }, readPath: null };
      const head = Buffer.alloc(4);
      const tail = Buffer.alloc(4);
      await fh.read(head, 0, 4, 0);
      if (size >= 12) await fh.read(tail, 0, 4, size - 4);
      const whole = size >= 12 && head.toString('latin1') === 'PAR1' && tail.toString('latin1') === 'PAR1';
      return whole
        ? {
            input: {
              key,
              status: 'read',
              reason: null,
              bytes: size,
              lines: null,
              records: null,
              rejected: [],
            },
            readPath: path,
          }
        : {
            input: damagedInput(
              key,
              head.toString('latin1') === 'PAR1' ? 'truncated_parquet' : 'not_parquet',
              size,
            ),
            readPath: null,
          };
    } finally {
      await fh.close();
    }
  } catch (err) {
    return unreadable(key, err);
  }
}

function damagedInput(key: string, reason: string, bytes: number): InputFile {
  return { key, status: 'damaged', reason, bytes, lines: null, records: null, rejected: [] };
}

function unreadable(key: string, _err: unknown, bytes = 0): IntakeResult {
  return {
    input: {
      key,
      status: 'unreadable',
      reason: 'unreadable_file',
      bytes,
      lines: null,
      records: null,
      rejected: [],
    },
    readPath: null,
  };
}

async function* plainFile(
  path: string,
  state: GzipState,
  limits: IntakeLimits,
  digest?: StoredDigest,
): AsyncGenerator<Buffer> {
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>) {
    digest?.feed(chunk, state.out);
    state.out += chunk.length;
    if (state.out > limits.maxDecompressedBytes) {
      state.tooLarge = true;
      return;
    }
    yield chunk;
  }
}

/**
 * The decompressed bytes of every gzip member (RFC 1952) of a file, stopping at `limit` bytes.
 * Each member's header is parsed here and its deflate data inflated on its own, so that the end
 * of each member is known exactly (`bytesWritten` of the raw inflater) and what follows is told
 * apart: another member, trailing bytes, or nothing.
 */
async function* gunzipFile(
  path: string,
  state: GzipState,
  limit: number,
  digest?: StoredDigest,
): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    let pos = 0;
    while (pos < size) {
      const head = Buffer.alloc(Math.min(64 * 1024, size - pos));
      const headRead = await fh.read(head, 0, head.length, pos);
      digest?.feed(head.subarray(0, headRead.bytesRead), pos);
      if (head.length < 2 || head[0] !== 0x1f || head[1] !== 0x8b) {
        // RFC 1952 allows nothing after the last member; NUL padding (tape blocks) is common and harmless.
        if (!head.every((b) => b === 0) || head.length < size - pos) state.trailing = size - pos;
        return;
      }
      const hdr = gzipHeaderLength(head);
      if (hdr === null) {
        state.damage = 'truncated_gzip';
        return;
      }
      const start = pos + hdr;
      const input = Readable.from(
        (async function* () {
          for (let at = start; at < size; at += CHUNK) {
            const buf = Buffer.alloc(Math.min(CHUNK, size - at));
            const { bytesRead } = await fh.read(buf, 0, buf.length, at);
            digest?.feed(buf.subarray(0, bytesRead), at);
            yield buf;
          }
        })(),
      );
      // Sync-flush: a cut member still yields all it can; the missing trailer tells that it was cut.
      // 1 MiB output chunks: zlib's default 16 KiB makes 64 times more trips through the line splitter.
      const inflater = createInflateRaw({ finishFlush: constants.Z_SYNC_FLUSH, chunkSize: CHUNK });
      let crc = 0;
      let isize = 0;
      try {
        for await (const out of input.pipe(inflater) as AsyncIterable<Buffer>) {
          state.out += out.length;
          if (state.out > limit) {
            state.tooLarge = true;
            input.destroy();
            inflater.destroy();
            return;
          }
          crc = crc32(out, crc);
          isize = (isize + out.length) >>> 0;
          yield out;
        }
      } catch {
        state.damage = 'corrupt_gzip';
        return;
      } finally {
        input.destroy();
      }
      const trailerAt = start + inflater.bytesWritten;
      if (trailerAt + 8 > size) {
        state.damage = 'truncated_gzip';
        return;
      }
      const trailer = Buffer.alloc(8);
      const trailerRead = await fh.read(trailer, 0, 8, trailerAt);
      digest?.feed(trailer.subarray(0, trailerRead.bytesRead), trailerAt);
      if (trailer.readUInt32LE(0) !== crc >>> 0 || trailer.readUInt32LE(4) !== isize) {
        state.damage = 'gzip_checksum_mismatch';
        return;
      }
      state.members += 1;
      pos = trailerAt + 8;
    }
  } finally {
    await fh.close();
  }
}

/** The length of a gzip member header at the start of `b`, or null when `b` ends inside it. */
function gzipHeaderLength(b: Buffer): number | null {
  if (b.length < 10 || b[2] !== 8) return null;
  const flags = b[3] as number;
  let at = 10;
  if (flags & 4) {
    if (at + 2 > b.length) return null;
    at += 2 + b.readUInt16LE(at);
  }
  for (const bit of [8, 16]) {
    if (flags & bit) {
      const zero = b.indexOf(0, at);
      if (zero < 0) return null;
      at = zero + 1;
    }
  }
  if (flags & 2) at += 2;
  return at > b.length ? null : at;
}

const RECORDS_DOCUMENT = /^\s*\{\s*"Records"\s*:\s*\[/;
/** The header line `evtx_dump -o json` writes before each record: `writeln!(output, "Record {}", id)`. */
const RECORD_HEADER = /^Record \d+$/;
const EVTX_DUMP_JSON = /^Record \d+\r?\n\{/;

/**
 * Splits decompressed bytes into lines (or, for a JSON document, records) and checks each one;
 * writes the kept ones to `sink` when given, and a {@link LINE_MARKER} line for each other one.
 */
class Scanner {
  /** Lines read; null for a JSON document (its records are counted instead). */
  lines: number | null = 0;
  records = 0;
  private lineNo = 0;
  rejectedTotal = 0;
  needsRewrite = false;
  private readonly rejects = new Map<string, { count: number; examples: string[] }>();
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private overlong = false;
  private mode: 'unknown' | 'lines' | 'document' | 'headed' = 'unknown';
  /** The pretty-printed record being joined (headed mode): its first line and its lines so far. */
  private headed: { start: number; lines: Buffer[]; count: number; bytes: number } | null = null;
  private head = Buffer.alloc(0);
  private readonly doc = new DocumentSplitter((rec) => this.record(rec));

  constructor(
    private readonly key: string,
    private readonly options: IntakeOptions,
    private readonly sink: RecordSink | null,
  ) {
    this.doc.maxBytes = options.limits.maxLineBytes;
  }

  push(chunk: Buffer): void {
    if (this.mode === 'unknown') {
      // The first 4 KiB (or the whole file) tell a JSON document from JSON lines.
      this.head = Buffer.concat([this.head, chunk]);
      if (this.head.length < 4096) return;
      this.decide();
      chunk = this.head;
      this.head = Buffer.alloc(0);
    }
    if (this.mode === 'document') {
      this.doc.push(chunk);
      return;
    }
    let from = 0;
    if (this.mode === 'lines') from = this.pushWholeLines(chunk);
    for (;;) {
      const nl = chunk.indexOf(0x0a, from);
      if (nl < 0) {
        this.add(chunk.subarray(from));
        return;
      }
      this.add(chunk.subarray(from, nl));
      this.endLine();
      from = nl + 1;
    }
  }

  end(): void {
    if (this.mode === 'unknown') {
      this.decide();
      const head = this.head;
      this.head = Buffer.alloc(0);
      if (head.length > 0) this.push(head);
    }
    if (this.mode === 'document') {
      this.doc.end();
      return;
    }
    if (this.pendingLength > 0 || this.overlong) this.endLine();
    if (this.headed !== null) this.rejectHeaded('truncated_record');
  }

  private decide(): void {
    const text = this.head
      .subarray(0, 4096)
      .toString('latin1')
      .replace(/^\xef\xbb\xbf/, '')
      .trimStart();
    const document = this.options.documents && (text.startsWith('[') || RECORDS_DOCUMENT.test(text));
    const headed = this.options.recordHeaders === true && EVTX_DUMP_JSON.test(text);
    this.mode = document ? 'document' : headed ? 'headed' : 'lines';
    if (headed) this.needsRewrite = true;
    if (document) {
      this.needsRewrite = true;
      this.lines = null;
    }
  }

  rejectSummary(): LineRejects[] {
    return [...this.rejects.entries()]
      .map(([reason, r]) => ({ reason, count: r.count, examples: r.examples }))
      .sort((a, b) => (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0));
  }

  private add(part: Buffer): void {
    if (this.overlong || part.length === 0) return;
    if (this.pendingLength + part.length > this.options.limits.maxLineBytes) {
      this.overlong = true;
      this.pending = [];
      this.pendingLength = 0;
      return;
    }
    this.pending.push(part);
    this.pendingLength += part.length;
  }

  /**
   * The whole lines of a chunk of JSON lines, checked together: the bytes from just after the
   * chunk's first line break to its last one are all complete lines (the first line of the file
   * is never among them: it ends at or before the first break). When those bytes are UTF-8 and
   * hold no control byte but LF, tab and the format's own, every line among them is too (LF, an
   * ASCII byte, is never part of a multi-byte sequence, so UTF-8 validity of the whole is that of
   * each line), and the per-line checks of {@link lineProblem} are skipped for them: the same
   * decision, made by one native UTF-8 check and one word-wide scan instead of a byte loop per
   * line. Otherwise (a CR LF file, a damaged line) every line takes the per-line path.
   * Returns where the per-line path goes on.
   */
  private pushWholeLines(chunk: Buffer): number {
    const first = chunk.indexOf(0x0a);
    if (first < 0) return 0;
    this.add(chunk.subarray(0, first));
    this.endLine();
    const from = first + 1;
    const last = chunk.lastIndexOf(0x0a);
    if (
      last <= from ||
      !isUtf8(chunk.subarray(from, last)) ||
      !withoutControlBytes(chunk, from, last, this.options.formatControlBytes ?? [])
    )
      return from;
    let at = from;
    while (at <= last) {
      const nl = chunk.indexOf(0x0a, at);
      const line = chunk.subarray(at, nl);
      at = nl + 1;
      this.lineNo += 1;
      this.lines = this.lineNo;
      if (line.length > this.options.limits.maxLineBytes) {
        this.reject('line_too_long', this.position(), this.lineNo - 1);
        continue;
      }
      this.takeLine(line, true);
    }
    return at;
  }

  private position(): string {
    return `${this.key}#line=${this.lineNo}`;
  }

  private endLine(): void {
    this.lineNo += 1;
    this.lines = this.lineNo;
    if (this.overlong) {
      this.overlong = false;
      this.reject('line_too_long', this.position(), this.lineNo - 1);
      return;
    }
    const line = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingLength = 0;
    this.takeLine(line, false);
  }

  /**
   * One whole line (without its LF) at line {@link lineNo}: `checked` when its bytes are already
   * known to be UTF-8 without control bytes ({@link pushWholeLines}).
   */
  private takeLine(whole: Buffer, checked: boolean): void {
    let line = whole;
    if (this.lineNo === 1 && line[0] === 0xef && line[1] === 0xbb && line[2] === 0xbf) {
      // A UTF-8 byte order mark: no part of the record (RFC 8259 §8.1 lets a parser ignore it).
      line = line.subarray(3);
      this.needsRewrite = true;
    }
    if (line[line.length - 1] === 0x0d) {
      line = line.subarray(0, line.length - 1);
      this.needsRewrite = true;
    }
    if (isBlank(line)) {
      if (line.length === 0) this.needsRewrite = true;
      this.write(null, this.lineNo - 1);
      return;
    }
    const problem = checked ? null : lineProblem(line, this.options.formatControlBytes);
    if (problem !== null) {
      this.reject(problem, this.position(), this.lineNo - 1);
      return;
    }
    if (this.mode === 'headed') {
      this.headedLine(line, this.position());
      return;
    }
    this.records += 1;
    if (this.options.jsonLines === true && hasLenientJsonExtras(line)) {
      this.needsRewrite = true;
      this.write(NOT_JSON_LINE, this.lineNo - 1);
      return;
    }
    this.write(line, this.lineNo - 1);
  }

  /**
   * One line of `evtx_dump -o json` output. A `Record <id>` header is no record; the lines from a
   * `{` to the `}` that closes it at the start of a line (serde_json's pretty printer puts the
   * top-level braces there) are one record, written as one JSON line at the position of its first
   * line, so every position still names the original file's line.
   */
  private headedLine(line: Buffer, position: string): void {
    const text = line.toString('utf8');
    if (this.headed === null) {
      if (RECORD_HEADER.test(text)) this.write(null, this.lineNo - 1);
      else if (text === '{')
        this.headed = { start: this.lineNo, lines: [line], count: 1, bytes: line.length };
      else this.reject('malformed_json', position, this.lineNo - 1);
      return;
    }
    if (RECORD_HEADER.test(text)) {
      // the next record begins before this one closed
      this.rejectHeaded('truncated_record');
      this.write(null, this.lineNo - 1);
      return;
    }
    const h = this.headed;
    h.count += 1;
    h.bytes += line.length + 1;
    // over the limit the lines are no longer kept, only counted, up to the record's end
    if (h.bytes <= this.options.limits.maxLineBytes) h.lines.push(line);
    if (text !== '}') return;
    if (h.bytes > this.options.limits.maxLineBytes) {
      this.rejectHeaded('line_too_long');
      return;
    }
    const { lines, start } = h;
    this.headed = null;
    let compact: Buffer | null = null;
    try {
      compact = Buffer.from(
        JSON.stringify(JSON.parse(Buffer.concat(lines.flatMap((l) => [l, NEWLINE])).toString('utf8'))),
      );
    } catch {
      compact = null;
    }
    const problem = compact === null ? 'malformed_json' : jsonProblem(compact);
    if (compact === null || problem !== null) {
      this.reject(problem ?? 'malformed_json', `${this.key}#line=${start}`, start - 1);
    } else {
      this.records += 1;
      this.write(compact, start - 1);
    }
    for (let i = 1; i < lines.length; i++) this.write(null, start - 1 + i);
  }

  /** Rejects the record being joined, keeping one marker per line it took. */
  private rejectHeaded(reason: string): void {
    const h = this.headed;
    if (h === null) return;
    this.headed = null;
    this.reject(reason, `${this.key}#line=${h.start}`, h.start - 1);
    for (let i = 1; i < h.count; i++) this.write(null, h.start - 1 + i);
  }

  /** One record of a JSON document (already without line breaks) or its problem. */
  private record(rec: { bytes: Buffer; index: number } | { problem: string; index: number }): void {
    const position = `${this.key}#record=${rec.index}`;
    if ('problem' in rec) {
      this.reject(rec.problem, position, rec.index);
      return;
    }
    const problem = lineProblem(rec.bytes) ?? jsonProblem(rec.bytes);
    if (problem !== null) {
      this.reject(problem, position, rec.index);
      return;
    }
    this.records += 1;
    this.write(rec.bytes, rec.index);
  }

  private reject(reason: string, position: string, index: number): void {
    this.needsRewrite = true;
    this.rejectedTotal += 1;
    const entry = this.rejects.get(reason) ?? { count: 0, examples: [] };
    entry.count += 1;
    if (entry.examples.length < MAX_EXAMPLES) entry.examples.push(position);
    this.rejects.set(reason, entry);
    this.write(null, index);
  }

  private write(line: Buffer | null, position: number): void {
    this.sink?.(line, position);
  }
}

const MARKER_LINE = Buffer.from([LINE_MARKER, 0x0a]);
const NOT_JSON_LINE = Buffer.from([NOT_JSON_MARKER]);

/**
 * Whether a line holds, outside its JSON strings, one of the extras that DuckDB's JSON reader
 * (yyjson, read with trailing commas and NaN/Infinity allowed) accepts and RFC 8259 and Trino's
 * `json_parse` refuse: a comma before `]` or `}`, or NaN / Inf (any case, optionally signed) where
 * a value starts. The same decision as DuckDB's `LENIENT_JSON` pattern
 * (lib/query/dialects/duckdb-dialect.ts: whitespace is RE2's `\s`, tab, LF, FF, CR and space; a
 * string is a quote to the next quote that no backslash escapes; nothing after an unterminated
 * string is outside one), tested against it by test/locate/lenient-json.test.ts; a byte scan that
 * jumps from quote to quote with the native `indexOf`, about 5x the pattern's speed.
 */
export function hasLenientJsonExtras(b: Buffer): boolean {
  const end = b.length;
  for (let i = 0; i < end; i++) {
    const c = b[i] as number;
    if (c === 0x22) {
      // the string's closing quote: the next quote after an even run of backslashes
      let q = i;
      for (;;) {
        q = b.indexOf(0x22, q + 1);
        if (q < 0) return false;
        let s = q - 1;
        while (b[s] === 0x5c) s--;
        if ((q - 1 - s) % 2 === 0) break;
      }
      i = q;
      continue;
    }
    if (c !== 0x2c && c !== 0x3a && c !== 0x5b) continue;
    let j = i + 1;
    while (j < end && isRe2Space(b[j] as number)) j++;
    const d = j < end ? (b[j] as number) : -1;
    if (c === 0x2c && (d === 0x5d || d === 0x7d)) return true;
    const k = d === 0x2b || d === 0x2d ? j + 1 : j;
    if (k + 2 >= end) continue;
    // ASCII letters only: | 0x20 lower-cases A-Z and leaves no other byte on n, a, i or f
    const x = (b[k] as number) | 0x20;
    const y = (b[k + 1] as number) | 0x20;
    const z = (b[k + 2] as number) | 0x20;
    if ((x === 0x6e && y === 0x61 && z === 0x6e) || (x === 0x69 && y === 0x6e && z === 0x66)) return true;
  }
  return false;
}

/** RE2's `\s`: tab, LF, FF, CR, space. */
function isRe2Space(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0c || b === 0x0d;
}
const NEWLINE = Buffer.from([0x0a]);

function isBlank(line: Buffer): boolean {
  for (let i = 0; i < line.length; i++) {
    const b = line[i] as number;
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
  }
  return true;
}

/** A control byte that {@link lineProblem} rejects, given the format's own; LF is none here (it separates lines). */
function controlByte(b: number, formatBytes: readonly number[]): boolean {
  return ((b < 0x20 && b !== 0x09 && b !== 0x0a) || b === 0x7f) && !formatBytes.includes(b);
}

/**
 * True when `b[from, to)` holds no byte that {@link controlByte} names. Reads four bytes at a time
 * (every byte of every line passes here): a word is looked at byte by byte only when one of its
 * bytes, its top bit cleared, is below 0x20 or is 0x7f (`x + 0x60` has no top bit exactly when
 * `x < 0x20`, `x + 0x01` has it exactly when `x = 0x7f`, with no carry between bytes since
 * `x <= 0x7f`); that also sends bytes 0x80–0x9f and 0xff to the exact test, never lets one through.
 */
export function withoutControlBytes(
  b: Buffer,
  from: number,
  to: number,
  formatBytes: readonly number[],
): boolean {
  let i = from;
  while (i < to && ((b.byteOffset + i) & 3) !== 0) {
    if (controlByte(b[i] as number, formatBytes)) return false;
    i += 1;
  }
  const words = (to - i) >>> 2;
  if (words > 0) {
    const u = new Uint32Array(b.buffer, b.byteOffset + i, words);
    for (let k = 0; k < words; k++) {
      const x = (u[k] as number) & 0x7f7f7f7f;
      if ((~(x + 0x60606060) | (x + 0x01010101)) & 0x80808080) {
        const at = i + 4 * k;
        for (let j = at; j < at + 4; j++) if (controlByte(b[j] as number, formatBytes)) return false;
      }
    }
    i += words * 4;
  }
  for (; i < to; i++) if (controlByte(b[i] as number, formatBytes)) return false;
  return true;
}

/** Why a line cannot be read as text: not UTF-8, or a control character other than tab and the format's own. */
function lineProblem(line: Buffer, formatBytes: readonly number[] = []): string | null {
  if (!isUtf8(line)) return 'invalid_utf8';
  // An indexed loop: Buffer's iterator costs several times more per byte, and every byte of every
  // line passes here.
  for (let i = 0; i < line.length; i++) {
    const b = line[i] as number;
    if (((b < 0x20 && b !== 0x09) || b === 0x7f) && !formatBytes.includes(b)) return 'control_character';
  }
  return null;
}

/** JSON that Node reads but the engines refuse: a lone UTF-16 surrogate escape (RFC 8259 §8.2). */
export function jsonProblem(bytes: Buffer): string | null {
  const text = bytes.toString('utf8');
  try {
    JSON.parse(text);
  } catch {
    return 'malformed_json';
  }
  if (
    /\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}/.test(
      text,
    )
  )
    return 'lone_surrogate';
  return null;
}

/**
 * Splits a JSON document that is an array, or an object whose `Records` is an array, into its
 * elements, streaming: a byte-level scan that knows strings and nesting depth, never parsing the
 * whole document. Raw line breaks between tokens become spaces so that each record is one line.
 * What follows the array is ignored; an element cut by the end of the file is `truncated_record`.
 */
class DocumentSplitter {
  maxBytes = Number.POSITIVE_INFINITY;
  private state: 'prefix' | 'between' | 'element' | 'done' = 'prefix';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private index = 0;
  private parts: Buffer[] = [];
  private size = 0;
  private overlong = false;
  private prefixText: number[] = [];

  constructor(
    private readonly emit: (
      rec: { bytes: Buffer; index: number } | { problem: string; index: number },
    ) => void,
  ) {}

  push(chunk: Buffer): void {
    let elementStart = -1;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i] as number;
      if (this.state === 'done') continue;
      if (this.state === 'prefix') {
        if (this.prefix(b)) this.state = 'between';
        continue;
      }
      if (this.state === 'between') {
        if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09 || b === 0x2c) continue;
        if (b === 0x5d) {
          this.state = 'done';
          continue;
        }
        this.state = 'element';
        this.depth = 0;
        this.inString = false;
        this.escaped = false;
        elementStart = i;
      }
      // element
      if (elementStart < 0) elementStart = i;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === 0x5c) this.escaped = true;
        else if (b === 0x22) this.inString = false;
        continue;
      }
      if (b === 0x22) this.inString = true;
      else if (b === 0x7b || b === 0x5b) this.depth += 1;
      else if (b === 0x7d || b === 0x5d || b === 0x2c) {
        if (this.depth === 0) {
          // a scalar element ends before `,` or `]`
          this.collect(chunk.subarray(elementStart, i));
          this.finish();
          elementStart = -1;
          this.state = b === 0x5d ? 'done' : 'between';
          continue;
        }
        if (b !== 0x2c) this.depth -= 1;
        if (this.depth === 0) {
          this.collect(chunk.subarray(elementStart, i + 1));
          this.finish();
          elementStart = -1;
          this.state = 'between';
        }
      }
    }
    if (this.state === 'element' && elementStart >= 0) this.collect(chunk.subarray(elementStart));
  }

  end(): void {
    if (this.state === 'element') {
      const text = Buffer.concat(this.parts);
      this.parts = [];
      this.size = 0;
      if (!isBlank(text) || this.overlong) this.emit({ problem: 'truncated_record', index: this.index++ });
    }
    this.state = 'done';
  }

  /** Consumes the bytes before the records array: `[` or `{ "Records" : [`. True at the array's `[`. */
  private prefix(b: number): boolean {
    if (this.prefixText.length === 0 && (b === 0xef || b === 0xbb || b === 0xbf)) return false;
    this.prefixText.push(b);
    const text = Buffer.from(this.prefixText).toString('latin1');
    if (/^\s*\[$/.test(text)) return true;
    return RECORDS_DOCUMENT.test(text);
  }

  private collect(part: Buffer): void {
    if (this.overlong) return;
    if (this.size + part.length > this.maxBytes) {
      this.overlong = true;
      this.parts = [];
      this.size = 0;
      return;
    }
    this.parts.push(part);
    this.size += part.length;
  }

  private finish(): void {
    const index = this.index++;
    if (this.overlong) {
      this.overlong = false;
      this.emit({ problem: 'record_too_long', index });
      return;
    }
    const bytes = Buffer.concat(this.parts);
    this.parts = [];
    this.size = 0;
    // Raw line breaks between tokens are JSON whitespace: made spaces. Inside a string they stay,
    // so that the record is rejected (a raw control character) rather than silently changed.
    let inString = false;
    let escaped = false;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (b === 0x5c) escaped = true;
        else if (b === 0x22) inString = false;
      } else if (b === 0x22) inString = true;
      else if (b === 0x0a || b === 0x0d) bytes[i] = 0x20;
    }
    this.emit({ bytes, index });
  }
}
