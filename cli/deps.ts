/**
 * The CLI's composition root: the only place the command line calls `new` on adapters.
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { systemClock } from '../lib/clock.ts';
import { type Config, DEFAULT_CONFIG, loadConfig } from '../lib/config/config.ts';
import type { ExportDeps } from '../lib/export/export-evidence.ts';
import type { RederiveDeps } from '../lib/export/rederive-evidence.ts';
import { existingCatalogTables } from '../lib/locate/catalog-tables.ts';
import { localLocator, withLocalInputs } from '../lib/locate/local-logs.ts';
import { DEFAULT_LIMITS } from '../lib/locate/log-intake.ts';
import type { RawLogLocator } from '../lib/locate/raw-log-locator.ts';
import { folderStagingBucket } from '../lib/locate/record-staging.ts';
import { stagingOf, tableLocator } from '../lib/locate/table-locator.ts';
import { DuckDbEngine } from '../lib/query/duckdb/duckdb-engine.ts';
import type { QueryEngine } from '../lib/query/query-engine.ts';
import { TrinoEngine } from '../lib/query/trino/trino-engine.ts';
import { LocalKeySigner } from '../lib/signing/local-key-signer.ts';
import { httpTimestamper } from '../lib/signing/timestamp.ts';
import { FsEvidenceStore } from '../lib/storage/fs-evidence-store.ts';

/** The tool's version, from package.json (read here, at the edge). */
export const TOOL_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export const DEFAULT_KEY_PATH = '.sessiontrail/signing-key.pem';
export const DEFAULT_OUT = 'evidence';

/** Where the queries run: embedded DuckDB over local files, or a Trino cluster over its raw tables. */
export type EngineChoice =
  | {
      readonly kind: 'duckdb';
      readonly logs: string;
      readonly threads?: number;
      /** DuckDB's memory limit for every statement, e.g. `2GB` (default: chosen per statement). */
      readonly memoryLimit?: string;
      /** Largest decompressed size of one log file (default 4 GiB); a larger file is reported, not read. */
      readonly maxFileBytes?: number;
    }
  | {
      readonly kind: 'trino';
      readonly url: string;
      /** Catalog and schema of the raw tables (`sessiontrail trino-tables` creates them). */
      readonly catalog: string;
      readonly schema: string;
      /** Writable catalog and schema of the pack's working tables. */
      readonly workCatalog: string;
      readonly workSchema: string;
      /** `"$path"` prefix the pack leaves out of object keys (the tables' logs root). */
      readonly logsRoot?: string;
      readonly user?: string;
    };

export interface LocalDepsOptions {
  readonly engine: EngineChoice;
  readonly out: string;
  readonly keyPath: string;
  readonly configPath?: string;
  readonly onProgress?: (step: string) => void;
  /** An RFC 3161 TSA that timestamps each manifest (`manifest.tsr`). */
  readonly tsaUrl?: string;
}

/** Builds the dependencies of an export from the command line: an engine, a folder store, a local key. */
export async function localDeps(options: LocalDepsOptions): Promise<ExportDeps & { close(): Promise<void> }> {
  const config: Config = options.configPath ? await loadConfig(options.configPath) : DEFAULT_CONFIG;
  const signer = await LocalKeySigner.fromFile(options.keyPath);
  const { engine, locator } = await engineAndLocator(options.engine);
  return {
    engine,
    store: new FsEvidenceStore(options.out),
    signer,
    clock: systemClock,
    config,
    locator,
    toolVersion: TOOL_VERSION,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.tsaUrl === undefined ? {} : { timestamper: httpTimestamper(options.tsaUrl) }),
    close: () => engine.close(),
  };
}

/** The dependencies of `rederive`: DuckDB over the auditor's copy of the logs, and the pack's configuration. */
export async function rederiveDeps(options: {
  readonly logs: string;
  readonly threads?: number;
  readonly memoryLimit?: string;
  readonly configPath?: string;
  readonly onProgress?: (step: string) => void;
}): Promise<RederiveDeps & { close(): Promise<void> }> {
  const config: Config = options.configPath ? await loadConfig(options.configPath) : DEFAULT_CONFIG;
  const { engine, locator } = await engineAndLocator({
    kind: 'duckdb',
    logs: options.logs,
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.memoryLimit === undefined ? {} : { memoryLimit: options.memoryLimit }),
  });
  return {
    engine,
    locator,
    config,
    toolVersion: TOOL_VERSION,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    close: () => engine.close(),
  };
}

async function engineAndLocator(
  choice: EngineChoice,
): Promise<{ engine: QueryEngine; locator: RawLogLocator }> {
  if (choice.kind === 'duckdb') {
    const engine = await DuckDbEngine.open({
      ...(choice.threads === undefined ? {} : { threads: choice.threads }),
      ...(choice.memoryLimit === undefined ? {} : { memoryLimit: choice.memoryLimit }),
    });
    const limits = {
      ...DEFAULT_LIMITS,
      ...(choice.maxFileBytes === undefined ? {} : { maxDecompressedBytes: choice.maxFileBytes }),
    };
    return { engine, locator: localLocator(choice.logs, limits) };
  }
  const engine = new TrinoEngine({
    server: choice.url,
    workCatalog: choice.workCatalog,
    workSchema: choice.workSchema,
    user: choice.user ?? userInfo().username,
  });
  const tables = await existingCatalogTables(engine, {
    catalog: choice.catalog,
    schema: choice.schema,
    ...(choice.logsRoot === undefined ? {} : { keyPrefix: choice.logsRoot }),
  });
  // Over local files, a staged table's per-record copies (CloudTrail, OCSF as JSON) are (re)used
  // through the staging, whose accounts are its input list (S3 objects are staged by a deployment's export).
  const localRoot = choice.logsRoot?.startsWith('local://')
    ? choice.logsRoot.slice('local://'.length)
    : undefined;
  return {
    engine,
    locator:
      localRoot === undefined
        ? tableLocator(tables)
        : // The other sources' files are listed as a local export lists them.
          withLocalInputs(
            tableLocator(
              tables,
              stagingOf(() => folderStagingBucket(localRoot)),
            ),
            localRoot,
          ),
  };
}
