/**
 * The CLI's composition root: the only place the command line calls `new` on adapters.
 */
import { readFileSync } from 'node:fs';
import { systemClock } from '../lib/clock.ts';
import { type Config, DEFAULT_CONFIG, loadConfig } from '../lib/config/config.ts';
import type { ExportDeps } from '../lib/export/export-evidence.ts';
import { DuckDbEngine } from '../lib/query/duckdb/duckdb-engine.ts';
import { LocalKeySigner } from '../lib/signing/local-key-signer.ts';
import { FsEvidenceStore } from '../lib/storage/fs-evidence-store.ts';
import { localLocator } from '../lib/storage/local-logs.ts';

/** The tool's version, from package.json (read here, at the edge). */
export const TOOL_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export const DEFAULT_KEY_PATH = '.sessiontrail/signing-key.pem';
export const DEFAULT_OUT = 'evidence';

export interface LocalDepsOptions {
  readonly logs: string;
  readonly out: string;
  readonly keyPath: string;
  readonly configPath?: string;
  readonly threads?: number;
  readonly onProgress?: (step: string) => void;
}

/** Builds the dependencies of a local export: DuckDB, a folder store and a local key. */
export async function localDeps(options: LocalDepsOptions): Promise<ExportDeps & { close(): Promise<void> }> {
  const config: Config = options.configPath ? await loadConfig(options.configPath) : DEFAULT_CONFIG;
  const signer = await LocalKeySigner.fromFile(options.keyPath);
  const engine = await DuckDbEngine.open(options.threads === undefined ? {} : { threads: options.threads });
  return {
    engine,
    store: new FsEvidenceStore(options.out),
    signer,
    clock: systemClock,
    config,
    locator: localLocator(options.logs),
    toolVersion: TOOL_VERSION,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    close: () => engine.close(),
  };
}
