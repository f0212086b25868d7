/**
 * The `RawLogLocator` port: where a source's raw logs are for one pack, and which sources the logs
 * hold. One answer to "where are the logs", with one adapter per place they can be: a local folder
 * ({@link localLocator}), the deployment's Athena tables ({@link athenaLocator}), the raw tables of
 * a Trino catalog ({@link trinoLocator}). The export use case and the pack plan ask only this port.
 */
import type { RawInput } from '../query/dialects/dialect.ts';
import type { InputFile } from './log-intake.ts';

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

/** One input object read for a pack, as `evidence.json` lists it (chain of custody). */
export interface InputObject {
  /** Path relative to the logs root (local), or the object key. */
  readonly key: string;
  readonly size: number;
  /** sha256 (hex) of the object's bytes as stored (compressed bytes for `.gz`). */
  readonly sha256: string;
}

/** Where a source's raw lines are for one pack, and what was wrong with its files. */
export interface LocatedInput {
  readonly input: RawInput;
  readonly problems: readonly FileProblem[];
  /** Every object the input reads, with its size and digest, where the locator can tell. */
  readonly inputs?: readonly InputObject[];
  /** Every file found, with what became of it (local files; a table input has none). */
  readonly found?: readonly InputFile[];
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
