/**
 * Runs the real export use case for tests: real DuckDB, a real folder store in a temp dir, a real
 * local key, a fixed clock. Nothing is faked.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixedClock } from '../../lib/clock.ts';
import { type Config, DEFAULT_CONFIG } from '../../lib/config/config.ts';
import type { ExportRequest } from '../../lib/evidence/request.ts';
import { type ExportResult, exportEvidence } from '../../lib/export/export-evidence.ts';
import { localLocator } from '../../lib/locate/local-logs.ts';
import { DuckDbEngine } from '../../lib/query/duckdb/duckdb-engine.ts';
import { generateKeyPair } from '../../lib/signing/keygen.ts';
import { LocalKeySigner } from '../../lib/signing/local-key-signer.ts';
import { FsEvidenceStore } from '../../lib/storage/fs-evidence-store.ts';

export interface LocalExport {
  readonly result: ExportResult;
  readonly storeRoot: string;
  readonly keyPath: string;
}

export async function makeKey(dir?: string): Promise<string> {
  const root = dir ?? (await mkdtemp(join(tmpdir(), 'st-key-')));
  const keyPath = join(root, 'signing-key.pem');
  await generateKeyPair(keyPath);
  return keyPath;
}

export async function localExport(
  logs: string,
  request: ExportRequest,
  options: {
    config?: Config;
    storeRoot?: string;
    keyPath?: string;
    threads?: number;
    /** DuckDB's bytes of lines per normalising statement (DuckDbEngineOptions). */
    statementInputBytes?: number;
  } = {},
): Promise<LocalExport> {
  const storeRoot = options.storeRoot ?? (await mkdtemp(join(tmpdir(), 'st-store-')));
  const keyPath = options.keyPath ?? (await makeKey());
  const engine = await DuckDbEngine.open({
    threads: options.threads ?? 2,
    ...(options.statementInputBytes === undefined
      ? {}
      : { statementInputBytes: options.statementInputBytes }),
  });
  try {
    const result = await exportEvidence(request, {
      engine,
      store: new FsEvidenceStore(storeRoot),
      signer: await LocalKeySigner.fromFile(keyPath),
      clock: fixedClock('2026-01-01T00:00:00.000Z'),
      config: options.config ?? DEFAULT_CONFIG,
      locator: localLocator(logs),
      toolVersion: '0.0.0-test',
    });
    return { result, storeRoot, keyPath };
  } finally {
    await engine.close();
  }
}
