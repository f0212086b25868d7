/**
 * The auditor's own re-derivation (`sessiontrail rederive`): re-read exactly the inputs a pack
 * lists, re-run the same statements from the same request and configuration, and show that
 * `evidence.json` comes out byte-identical, or where it first differs.
 *
 * What is re-run is what the pack says was run: the request recorded in the signed manifest, the
 * sources and configuration `evidence.json` names (the configuration must have the pack's
 * `tool.config_sha256`), and the same query builders, whose statements are then compared byte for
 * byte with the pack's `queries/*.sql` (their digests are subjects of the signed manifest). Running the
 * pack's `.sql` files text alone would not rebuild `evidence.json`: they are the statements, not
 * the assembly of their rows, so the use case rebuilds and compares both.
 */
import type { Config } from '../config/config.ts';
import { SessiontrailError } from '../errors.ts';
import { canonicalBytes, sha256Hex } from '../evidence/canonical-json.ts';
import type { EvidencePack, InputRecord } from '../evidence/model.ts';
import type { ExportRequest } from '../evidence/request.ts';
import type { InputObject, LocatedInput, RawLogLocator } from '../locate/raw-log-locator.ts';
import type { QueryEngine } from '../query/query-engine.ts';
import { compareCodeUnits, MANIFEST_FILE, parseManifest } from '../signing/manifest.ts';
import type { EvidenceStore } from '../storage/evidence-store.ts';
import { assembleEvidence } from './assemble-evidence.ts';
import { planPack } from './plan-pack.ts';
import { runQueries } from './run-queries.ts';

export interface RederiveDeps {
  readonly engine: QueryEngine;
  /** Where the auditor's copy of the logs is (a local folder: the pack's keys are relative to it). */
  readonly locator: RawLogLocator;
  /** The configuration the pack was built with (checked against `tool.config_sha256`). */
  readonly config: Config;
  readonly toolVersion: string;
  readonly onProgress?: (step: string) => void;
}

/** The first place two JSON documents differ, in document order (keys in RFC 8785 order). */
export interface JsonDifference {
  /** JSONPath-like, e.g. `$.sessions[3].end`. */
  readonly path: string;
  /** The pack's value there (`undefined` when absent), as JSON text. */
  readonly pack: string;
  /** The re-derived value there, as JSON text. */
  readonly rederived: string;
}

export interface RederiveResult {
  /** True when the re-derived evidence.json is byte-identical to the pack's. */
  readonly identical: boolean;
  readonly packSha256: string;
  readonly rederivedSha256: string;
  /** Where the two first differ; null when identical. */
  readonly firstDifference: JsonDifference | null;
  /** Inputs re-read and matched to the pack's list (size and sha256). */
  readonly inputsChecked: number;
  /** Statements re-run whose text is byte-identical to the pack's `queries/*.sql`. */
  readonly queriesIdentical: number;
  /** Statements whose text differs from the pack's, or that one side lacks. */
  readonly queriesDiffering: readonly string[];
}

/**
 * Re-derives the pack at `packDir` of `store` from the logs `deps.locator` reads.
 * @throws SessiontrailError `REDERIVE_NO_INPUTS` when the pack lists no local inputs;
 *   `REDERIVE_CONFIG_MISMATCH` when `deps.config` is not the pack's; `REDERIVE_INPUT_MISSING`,
 *   `REDERIVE_INPUT_CHANGED`, `REDERIVE_INPUT_UNLISTED` when the logs are not exactly the pack's
 *   inputs; `STORE_READ_FAILED` / `VERIFY_MANIFEST_INVALID` for an unreadable pack; engine errors.
 */
export async function rederiveEvidence(
  pack: { readonly store: EvidenceStore; readonly packDir: string },
  deps: RederiveDeps,
): Promise<RederiveResult> {
  const progress = deps.onProgress ?? (() => {});
  const packBytes = await pack.store.get(`${pack.packDir}/evidence.json`);
  const evidence = JSON.parse(new TextDecoder().decode(packBytes)) as EvidencePack;
  const manifest = parseManifest(await pack.store.get(`${pack.packDir}/${MANIFEST_FILE}`));

  const listed = evidence.inputs;
  if (listed === undefined || listed.some((i) => i.s3 !== null)) {
    throw new SessiontrailError(
      'REDERIVE_NO_INPUTS',
      listed === undefined
        ? 'the pack lists no inputs (its engine listed the objects itself): it cannot be re-derived from files'
        : 'the pack was read from S3 objects: re-derive it on its engine, not from local files',
    );
  }
  const configSha = sha256Hex(canonicalBytes(deps.config));
  if (configSha !== evidence.tool.config_sha256) {
    throw new SessiontrailError(
      'REDERIVE_CONFIG_MISMATCH',
      `the pack was built with the configuration of sha256 ${evidence.tool.config_sha256}, the one given has ${configSha}: give the pack's configuration with --config`,
    );
  }

  // The request the signed manifest records, reading the sources evidence.json names (what the
  // logs held then, whatever they hold now).
  const request = { ...requestOf(manifest.predicate.request, evidence), sources: evidence.pack.sources };
  const plan = await planPack(request, deps.config, deps.locator);
  const checked = { n: 0 };
  const { results, queryFiles, inputs } = await runQueries(plan, {
    engine: deps.engine,
    locator: listedInputsOnly(deps.locator, listed, checked),
    onProgress: progress,
  });
  progress('assembling evidence.json');
  const rederived = assembleEvidence(plan, results, queryFiles, {
    toolVersion: deps.toolVersion,
    ...(inputs === undefined ? {} : { inputs }),
  });

  const packed = new Set((await pack.store.list(`${pack.packDir}/queries`)).map((name) => `queries/${name}`));
  let queriesIdentical = 0;
  const queriesDiffering: string[] = [];
  for (const f of queryFiles) {
    const theirs = packed.has(f.name) ? await pack.store.get(`${pack.packDir}/${f.name}`) : null;
    if (theirs !== null && Buffer.from(theirs).equals(Buffer.from(f.bytes))) queriesIdentical++;
    else queriesDiffering.push(f.name);
    packed.delete(f.name);
  }
  queriesDiffering.push(...[...packed].sort(compareCodeUnits));

  const identical = Buffer.from(packBytes).equals(Buffer.from(rederived.bytes));
  return {
    identical,
    packSha256: sha256Hex(packBytes),
    rederivedSha256: rederived.sha256,
    firstDifference: identical
      ? null
      : (firstDifference(evidence, JSON.parse(new TextDecoder().decode(rederived.bytes))) ?? {
          path: '$',
          pack: 'the same content in other bytes (not RFC 8785 canonical form)',
          rederived: 'RFC 8785 canonical form',
        }),
    inputsChecked: checked.n,
    queriesIdentical,
    queriesDiffering,
  };
}

/** The request the manifest records, or, for a pack sealed without one, the one evidence.json describes. */
function requestOf(recorded: unknown, evidence: EvidencePack): ExportRequest {
  if (recorded !== null && typeof recorded === 'object' && !Array.isArray(recorded))
    return recorded as ExportRequest;
  const { pack } = evidence;
  return {
    kind: pack.kind,
    from: pack.window.from,
    to: pack.window.to,
    users: pack.scope.users,
    hosts: pack.scope.hosts,
    ...(pack.scope.incident_id === null ? {} : { incidentId: pack.scope.incident_id }),
    ...(pack.scope.requester === null ? {} : { requester: pack.scope.requester }),
    ...(pack.scope.reason === null ? {} : { reason: pack.scope.reason }),
    series: pack.series,
  };
}

/**
 * A locator that hands over a source's input only when the files it found are exactly the ones the
 * pack lists for that source, each of the size and sha256 the pack records (counted in `checked`).
 */
function listedInputsOnly(
  inner: RawLogLocator,
  listed: readonly InputRecord[],
  checked: { n: number },
): RawLogLocator {
  return {
    sources: () => inner.sources(),
    async locate(source, fromMs, toMs): Promise<LocatedInput> {
      const located = await inner.locate(source, fromMs, toMs);
      try {
        checked.n += matchListed(
          source,
          located.inputs,
          listed.filter((i) => i.source === source),
        );
      } catch (err) {
        await located.cleanup();
        throw err;
      }
      return located;
    },
  };
}

/** Checks the files found against the pack's list; returns how many digests matched. */
function matchListed(
  source: string,
  found: readonly InputObject[] | undefined,
  listed: readonly InputRecord[],
): number {
  if (found === undefined)
    throw new SessiontrailError(
      'REDERIVE_NO_INPUTS',
      `the logs given for ${source} are a table whose files the engine lists: give --logs a folder`,
    );
  const byKey = new Map(found.map((f) => [f.key, f]));
  let matched = 0;
  for (const want of listed) {
    const got = byKey.get(want.key);
    if (got === undefined || (want.sha256 !== null && got.sha256 === null)) {
      throw new SessiontrailError(
        'REDERIVE_INPUT_MISSING',
        `${want.key} (${source}${want.sha256 === null ? '' : `, sha256 ${want.sha256}`}) is listed by the pack but ${got === undefined ? 'is not in' : 'cannot be read from'} the logs given`,
      );
    }
    if (want.sha256 !== null) {
      if (got.sha256 !== want.sha256 || got.size !== want.size) {
        throw new SessiontrailError(
          'REDERIVE_INPUT_CHANGED',
          `${want.key} (${source}) is not the file the pack read: the pack lists ${want.size} bytes, sha256 ${want.sha256}; the logs given hold ${got.size} bytes, sha256 ${got.sha256}`,
        );
      }
      matched++;
    }
  }
  const wanted = new Set(listed.map((i) => i.key));
  const extra = found.find((f) => !wanted.has(f.key));
  if (extra !== undefined) {
    throw new SessiontrailError(
      'REDERIVE_INPUT_UNLISTED',
      `${extra.key} (${source}) is in the logs given for the pack's window but not listed by the pack: re-derive from exactly the pack's inputs`,
    );
  }
  return matched;
}

/**
 * The first path at which two JSON values differ, walking objects in RFC 8785 key order and arrays
 * by index; undefined when they are equal.
 */
export function firstDifference(pack: unknown, rederived: unknown, path = '$'): JsonDifference | undefined {
  const text = (v: unknown) => (v === undefined ? 'undefined' : JSON.stringify(v));
  if (Array.isArray(pack) && Array.isArray(rederived)) {
    for (let i = 0; i < Math.max(pack.length, rederived.length); i++) {
      const d = firstDifference(pack[i], rederived[i], `${path}[${i}]`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (isObject(pack) && isObject(rederived)) {
    const keys = [...new Set([...Object.keys(pack), ...Object.keys(rederived)])].sort(compareCodeUnits);
    for (const k of keys) {
      const d = firstDifference(pack[k], rederived[k], `${path}.${k}`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  return text(pack) === text(rederived) ? undefined : { path, pack: text(pack), rederived: text(rederived) };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
