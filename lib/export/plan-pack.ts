/**
 * The pack plan: what a request asks for, resolved against the logs and the configuration, before
 * any query runs. **The one place that decides a pack's identity** (its id and folder) and the
 * sources it reads: the CLI, both Lambdas (the on-demand `start` announces the id before the
 * build) and the export use case all call {@link planPack}, so they cannot disagree.
 */
import type { Config, SuppressionRule } from '../config/config.ts';
import { SessiontrailError } from '../errors.ts';
import { canonicalBytes, sha256Hex } from '../evidence/canonical-json.ts';
import { type ExportRequest, type ValidRequest, validateRequest } from '../evidence/request.ts';
import type { RawLogLocator } from '../locate/raw-log-locator.ts';
import type { ReconstructionPlan } from '../query/reconstruct.ts';
import { SOURCES } from '../sources/index.ts';

export interface PackPlan {
  /** The request, validated, with the sources it reads (named, or what the logs hold). */
  readonly request: ValidRequest & { readonly sources: readonly string[] };
  /** `<kind>-<YYYY-MM-DD of from>-<12 hex of the content digest>`. */
  readonly packId: string;
  /** `<series>/<pack id>`, relative to the store root. */
  readonly dir: string;
  /** Where the data read starts: the window's start less the configured look-back. */
  readonly dataFromMs: number;
  readonly reconstruction: ReconstructionPlan;
  /** Ids of the suppression rules that did not apply because they expired before the window end. */
  readonly expiredRules: readonly string[];
}

/**
 * Plans the pack of `request`: validates it, resolves its sources (those it names, else what the
 * locator says the logs hold) and derives its id from its content.
 * @throws SessiontrailError `BAD_REQUEST` / `BAD_WINDOW` for a bad request (as `validateRequest`);
 *   `NO_SOURCE_DATA` when the request names no source and the logs hold none.
 */
export async function planPack(
  request: ExportRequest,
  config: Config,
  locator: Pick<RawLogLocator, 'sources'>,
): Promise<PackPlan> {
  const asked = validateRequest(request);
  const sources = asked.sources ?? [...(await locator.sources())].sort();
  if (sources.length === 0) {
    throw new SessiontrailError(
      'NO_SOURCE_DATA',
      'no source folder or table was found in the logs: name one with --source',
    );
  }
  const req = { ...asked, sources };
  const dataFromMs = req.fromMs - config.lookback_hours * 3_600_000;
  const { active, expired } = applicableRules(config.suppress, req.to);
  const packId = packIdOf(req, config);
  return {
    request: req,
    packId,
    dir: `${req.series}/${packId}`,
    dataFromMs,
    reconstruction: {
      fromMs: req.fromMs,
      toMs: req.toMs,
      dataFromMs,
      users: req.users,
      hosts: req.hosts,
      includeUnprivileged: req.kind === 'incident',
      config,
      activeRules: active,
      splitTokenSources: req.sources.filter((s) => SOURCES[s]?.traits.splitTokenPairs === true),
      credentialChainSources: req.sources.filter((s) => SOURCES[s]?.traits.credentialChains === true),
      coverageGapMs: config.coverage_gap_hours * 3_600_000,
    },
    expiredRules: expired.map((r) => r.id),
  };
}

/** Pack id from the request's content: the same request, sources and configuration give the same id. */
function packIdOf(req: ValidRequest & { sources: readonly string[] }, config: Config): string {
  const digest = sha256Hex(
    new TextEncoder().encode(
      JSON.stringify([
        req.kind,
        req.from,
        req.to,
        req.sources,
        req.users,
        req.hosts,
        req.incidentId,
        req.requester,
        req.reason,
        req.series,
        sha256Hex(canonicalBytes(config)),
        // It changes evidence.json (its workpaper), so it is part of the identity; appended only when
        // given, so that the ids of requests without one stay what they were.
        ...(req.controlReference === null ? [] : [req.controlReference]),
      ]),
    ),
  );
  return `${req.kind}-${req.from.slice(0, 10)}-${digest.slice(0, 12)}`;
}

/**
 * Splits suppression rules into those that apply to a window ending at `to` and those that do not:
 * a rule whose `expires` day ends before the window end does not apply, because an exemption must
 * cover the whole window (conservative: show, don't hide). The pack names the expired ones.
 */
export function applicableRules(
  rules: readonly SuppressionRule[],
  to: string,
): { readonly active: readonly SuppressionRule[]; readonly expired: readonly SuppressionRule[] } {
  const active: SuppressionRule[] = [];
  const expired: SuppressionRule[] = [];
  for (const r of rules) {
    if (r.expires !== undefined && Date.parse(`${r.expires}T23:59:59.999Z`) < Date.parse(to) - 1)
      expired.push(r);
    else active.push(r);
  }
  return { active, expired };
}
