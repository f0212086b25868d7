/**
 * The Trino that the tests use, when there is one: `TRINO_URL` (started by `npm run trino:start`,
 * i.e. scripts/trino-start.sh) with the `hive` catalog (file metastore, local file system rooted at
 * `/`) and the `memory` catalog.
 *
 * Without a reachable Trino the Trino tests are reported as skipped with the reason; with
 * `SESSIONTRAIL_REQUIRE_TRINO=1` (CI) the same absence fails them.
 */

import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative, sep } from 'node:path';
import { catalogTables } from '../../../lib/locate/catalog-tables.ts';
import { planRawInput } from '../../../lib/locate/raw-input-plan.ts';
import { stageLocalFolder } from '../../../lib/locate/record-staging.ts';
import { createRawTables } from '../../../lib/locate/trino-tables.ts';
import type { RawInput } from '../../../lib/query/dialects/dialect.ts';
import { TrinoEngine } from '../../../lib/query/trino/trino-engine.ts';
import { SOURCES } from '../../../lib/sources/index.ts';
import type { RawTableSpec } from '../../../lib/sources/raw-table.ts';

export interface TrinoAvailability {
  readonly url: string | null;
  /** Null when reachable; else why the Trino tests cannot run. */
  readonly unavailable: string | null;
  /** True when an unavailable Trino must fail the tests instead of skipping them. */
  readonly required: boolean;
}

/** Checks `TRINO_URL` once: set, reachable, and finished starting. */
export async function trinoAvailability(): Promise<TrinoAvailability> {
  const url = process.env.TRINO_URL ?? null;
  const required = process.env.SESSIONTRAIL_REQUIRE_TRINO === '1';
  if (url === null || url === '') {
    return { url: null, required, unavailable: 'TRINO_URL is not set (start one: npm run trino:start)' };
  }
  try {
    const res = await fetch(`${url.replace(/\/+$/, '')}/v1/info`, { signal: AbortSignal.timeout(5000) });
    const info = (await res.json()) as { starting?: boolean };
    if (info.starting !== false) return { url, required, unavailable: `Trino at ${url} is still starting` };
    return { url, required, unavailable: null };
  } catch (err) {
    return {
      url,
      required,
      unavailable: `Trino at ${url} is not reachable: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}

/** A name unique to this test process, usable as a schema name. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * An engine over the test server (work tables in `memory.<workSchema>`), with the raw input of the
 * `hive.<rawSchema>` tables as the production locator plans it (`catalogTables` + `planRawInput`).
 */
export class TestTrinoEngine extends TrinoEngine {
  constructor(
    url: string,
    private readonly rawSchema: string,
    workSchema: string,
    private readonly specs: Readonly<Record<string, RawTableSpec>>,
  ) {
    super({ server: url, workCatalog: 'memory', workSchema, user: 'sessiontrail-test' });
  }

  /** The raw input of `source` for `[fromMs, toMs)`, object keys relative to `keyPrefix`. */
  rawInput(source: string, fromMs: number, toMs: number, keyPrefix?: string): RawInput {
    const tables = catalogTables([source], {
      catalog: 'hive',
      schema: this.rawSchema,
      specs: this.specs,
      ...(keyPrefix === undefined ? {} : { keyPrefix }),
    });
    return planRawInput(tables[source]!, fromMs, toMs);
  }
}

/** An engine over the test server: raw tables in `hive.<rawSchema>`, work tables in `memory.<workSchema>`. */
export function testEngine(
  url: string,
  rawSchema: string,
  workSchema = uniqueName('work'),
  rawTableSpecs: Readonly<Record<string, RawTableSpec>> = {},
): TestTrinoEngine {
  return new TestTrinoEngine(url, rawSchema, workSchema, rawTableSpecs);
}

/** A folder laid out as the logs bucket (`<root>/<source>/dt=YYYY-MM-DD/<file>`), and its Hive tables. */
export interface StagedLogs {
  /** The logs root, for the local reader (DuckDB). */
  readonly root: string;
  /** The Hive schema of the raw tables. */
  readonly schema: string;
  /** `"$path"` prefix to leave out of object keys: `local://<root>/`. */
  readonly keyPrefix: string;
  remove(): Promise<void>;
}

/**
 * Creates the Hive schema and the raw table of each source over `root` (already laid out as the
 * bucket: each table at `<root>/<spec.location>`), and registers the partition folders present.
 * `specs` replaces a source's own layout (e.g. OCSF as JSON, see `OCSF_JSON_TABLE`).
 */
export async function registerRawTables(
  engine: TrinoEngine,
  root: string,
  schema: string,
  sources: readonly string[],
  specs: Readonly<Record<string, RawTableSpec>> = {},
): Promise<StagedLogs> {
  const location = `local://${root}`;
  // An external location must exist as a folder, even when the source has no file in it.
  for (const source of sources) {
    const spec = specs[source] ?? SOURCES[source]?.rawTable;
    if (spec !== undefined) {
      // CloudTrail: the delivered documents split per record first, as the deployment stages them.
      await stageLocalFolder(root, spec);
      await mkdir(join(root, spec.location), { recursive: true });
    }
  }
  const tables = await createRawTables(
    engine,
    sources,
    { catalog: 'hive', schema, location, specs },
    async (spec) => {
      const dir = join(root, spec.location);
      return (await readdir(dir, { recursive: true, withFileTypes: true }))
        .filter((e) => e.isDirectory())
        .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'));
    },
  );
  return {
    root,
    schema,
    keyPrefix: `${location}/`,
    remove: async () => {
      for (const table of tables) {
        await engine
          .execute(`DROP TABLE IF EXISTS hive.${schema}.${table}`, [], 'drop raw')
          .catch(() => undefined);
      }
      await engine.execute(`DROP SCHEMA IF EXISTS hive.${schema}`, [], 'drop schema').catch(() => undefined);
    },
  };
}

/** Copies files into a fresh bucket-shaped folder under one `dt` partition each. */
export async function stageFiles(
  source: string,
  files: readonly { readonly path: string; readonly dt: string }[],
): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'st-trino-logs-'));
  for (const f of files) {
    const dir = join(root, source, `dt=${f.dt}`);
    await mkdir(dir, { recursive: true });
    await copyFile(f.path, join(dir, basename(f.path)));
  }
  return root;
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
