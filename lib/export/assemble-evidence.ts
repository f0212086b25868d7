/**
 * The assemble step: the query rows, the plan and the tool facts into `evidence.json`, checked
 * against its own schema before anything is rendered or sealed.
 */
import { SessiontrailError } from '../errors.ts';
import { assemblePack, type QueryResults } from '../evidence/assemble-pack.ts';
import { canonicalBytes, sha256Hex } from '../evidence/canonical-json.ts';
import type { EvidencePack, InputRecord } from '../evidence/model.ts';
import { validateEvidence } from '../evidence/schema.ts';
import { SOURCES } from '../sources/index.ts';
import type { PackPlan } from './plan-pack.ts';
import type { QueryFile } from './run-queries.ts';

export interface AssembleFacts {
  readonly toolVersion: string;
  /** The input objects read, when the locator listed them. */
  readonly inputs?: readonly InputRecord[];
}

export interface AssembledEvidence {
  readonly pack: EvidencePack;
  /** RFC 8785 canonical bytes of the pack: `evidence.json`. */
  readonly bytes: Uint8Array;
  readonly sha256: string;
}

/**
 * Builds and checks `evidence.json`.
 * @throws SessiontrailError `INTERNAL` when the pack fails its own schema (a bug, never the caller's).
 */
export function assembleEvidence(
  plan: PackPlan,
  results: QueryResults,
  queryFiles: readonly QueryFile[],
  facts: AssembleFacts,
): AssembledEvidence {
  const req = plan.request;
  const config = plan.reconstruction.config;
  const pack = assemblePack({
    pack: {
      id: plan.packId,
      kind: req.kind,
      series: req.series,
      window: { from: req.from, to: req.to },
      data_from: new Date(plan.dataFromMs).toISOString(),
      scope: {
        users: req.users,
        hosts: req.hosts,
        incident_id: req.incidentId,
        requester: req.requester,
        reason: req.reason,
        include_unprivileged: plan.reconstruction.includeUnprivileged,
      },
      sources: req.sources,
    },
    tool: {
      name: 'sessiontrail',
      version: facts.toolVersion,
      config_sha256: sha256Hex(canonicalBytes(config)),
    },
    config,
    controlReference: req.controlReference,
    expiredRules: plan.expiredRules,
    results,
    queries: queryFiles.map((f) => f.record),
    ...(facts.inputs === undefined ? {} : { inputs: facts.inputs }),
    definedFields: (source, code) => SOURCES[source]?.definedFields(code) ?? [],
    traitsOf: (source) => SOURCES[source]?.traits ?? { privilegeEvents: false, logoffEvents: false },
  });
  const validation = validateEvidence(pack);
  if (!validation.ok) {
    throw new SessiontrailError(
      'INTERNAL',
      `the pack does not match its own schema (a bug in sessiontrail): ${validation.errors.slice(0, 5).join('; ')}`,
    );
  }
  const bytes = canonicalBytes(pack);
  return { pack, bytes, sha256: sha256Hex(bytes) };
}
