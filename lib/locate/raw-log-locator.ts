/**
 * The `RawLogLocator` port: where a source's raw logs are for one pack, and which sources the logs
 * hold. One answer to "where are the logs", with one adapter per place they can be: a local folder
 * ({@link localLocator}), the deployment's Athena tables ({@link athenaLocator}), the raw tables of
 * a Trino catalog ({@link trinoLocator}). The export use case and the pack plan ask only this port.
 */
import type { RawInput } from '../query/dialects/dialect.ts';
import type { InputStatus } from './log-intake.ts';

/**
 * A file the locator found but could not hand over whole, or records of it rejected before the
 * engine read them, and why: `count` records (1 when absent) with their first positions
 * (`examples`, the file's key when absent).
 */
export interface FileProblem {
  readonly key: string;
  readonly reason: string;
  readonly count?: number;
  readonly examples?: readonly string[];
}

/**
 * One input object found for a pack, as `evidence.json` lists it (chain of custody; the model's
 * `InputRecord` less its source): what it was as stored and what was read of it.
 */
export interface InputObject {
  /** Path relative to the logs root (local, `/`-separated), or `s3://<bucket>/<key>`. */
  readonly key: string;
  readonly status: InputStatus;
  /** Why it was skipped, or what is wrong with it; null for an object read whole. */
  readonly reason: string | null;
  /** Size in bytes as stored; null when the object was not opened. */
  readonly size: number | null;
  /** sha256 (hex) of the bytes as stored (compressed bytes for `.gz`), for a local file opened; else null. */
  readonly sha256: string | null;
  /** The S3 object version read, for an S3 object; else null. */
  readonly s3: {
    readonly version_id: string | null;
    readonly etag: string;
    readonly checksum: { readonly algorithm: string; readonly value: string } | null;
    readonly last_modified: string;
  } | null;
  /** Records the object holds (rejected ones included); null when unknown (Parquet) or not read. */
  readonly records: number | null;
  /** Bytes of content read from offset 0 (decompressed for gzip) and the last line read; null when nothing was read. */
  readonly range: { readonly bytes: number; readonly last_line: number | null } | null;
}

/** Where a source's raw lines are for one pack, and what was wrong with its files. */
export interface LocatedInput {
  readonly input: RawInput;
  readonly problems: readonly FileProblem[];
  /**
   * Every object found for the input, with what became of it and its size and digest or S3
   * version, where the locator can tell (local files, S3 objects); absent for a table whose
   * objects only the engine lists.
   */
  readonly inputs?: readonly InputObject[];
  /** Releases what locating made (scratch files); called once the input has been read. */
  cleanup(): Promise<void>;
}

export interface RawLogLocator {
  /**
   * The sources these logs hold, sorted: the `<source>/` folders of a local layout, the tables of a
   * deployment or a catalog. A request that names no source reads exactly these, so the pack plan
   * and the build agree on them (the pack id depends on them).
   */
  sources(): Promise<readonly string[]>;
  /**
   * A source's raw input for the days `[fromMs, toMs)` touch.
   * @throws SessiontrailError `LOGS_NOT_FOUND` when the logs cannot be read; `BAD_REQUEST` for a
   *   source these logs do not hold.
   */
  locate(source: string, fromMs: number, toMs: number): Promise<LocatedInput>;
}
