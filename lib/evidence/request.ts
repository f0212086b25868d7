/**
 * The export request, as the CLI and the Lambdas build it, and its validation. A bad request is
 * refused with one message that says what to fix.
 */
import { SessiontrailError } from '../errors.ts';
import { SOURCE_NAMES } from '../sources/index.ts';
import { DAY_OR_ZONED_TIME, parseCalendarTime, ZONELESS_TIME } from './calendar-time.ts';
import type { PackKind } from './model.ts';

export interface ExportRequest {
  readonly kind: PackKind;
  /** ISO 8601 with a zone; inclusive. */
  readonly from: string;
  /** ISO 8601 with a zone; exclusive. */
  readonly to: string;
  readonly sources?: readonly string[];
  readonly users?: readonly string[];
  readonly hosts?: readonly string[];
  readonly incidentId?: string;
  readonly requester?: string;
  readonly reason?: string;
  /**
   * The control this pack evidences (e.g. `SOX ITGC AC-07`), printed in the PDF's sign-off block and
   * stored in evidence.json's `workpaper`; overrides the configuration's `findings.control_reference`.
   */
  readonly controlReference?: string;
  /** Series folder; defaults to the kind (`review`, `audit`, `incident`). */
  readonly series?: string;
  /**
   * Seal the pack even when a user or host in scope matches nothing in the data (the pack then says
   * so); without it such a request is refused with the nearest matches. Default false.
   */
  readonly allowEmpty?: boolean;
}

/** A request checked and normalised: times parsed, lists sorted and de-duplicated. */
export interface ValidRequest {
  readonly kind: PackKind;
  readonly fromMs: number;
  readonly toMs: number;
  readonly from: string;
  readonly to: string;
  /** The sources asked for, or null when the request leaves it to what the logs hold. */
  readonly sources: readonly string[] | null;
  readonly users: readonly string[];
  readonly hosts: readonly string[];
  readonly incidentId: string | null;
  readonly requester: string | null;
  readonly reason: string | null;
  /** The request's control reference, or null (the configuration's then applies). */
  readonly controlReference: string | null;
  readonly series: string;
  readonly allowEmpty: boolean;
}

export const PACK_KINDS: readonly PackKind[] = ['review', 'audit', 'incident'];
/** A pack covers at most a year: longer windows are a mistake more often than a need. */
export const MAX_WINDOW_DAYS = 366;
/** A series folder name: the one rule, used by the CLI's request and the Lambdas' events. */
export const SERIES = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** 1-256 characters without control characters. */
const NAME = { test: (v: string) => v.length >= 1 && v.length <= 256 && !/\p{Cc}/u.test(v) };

/**
 * Validates a request.
 * @throws SessiontrailError `BAD_REQUEST` or `BAD_WINDOW`, naming the field and what to fix.
 */
export function validateRequest(req: ExportRequest): ValidRequest {
  const bad = (msg: string): never => {
    throw new SessiontrailError('BAD_REQUEST', msg);
  };
  if (!PACK_KINDS.includes(req.kind))
    bad(`kind must be one of ${PACK_KINDS.join(', ')}, received ${JSON.stringify(req.kind)}`);
  const fromMs = parseTime('from', req.from);
  const toMs = parseTime('to', req.to);
  if (toMs <= fromMs) {
    throw new SessiontrailError(
      'BAD_WINDOW',
      `the window is empty or reversed: --from ${req.from} must be before --to ${req.to}`,
    );
  }
  if (toMs - fromMs > MAX_WINDOW_DAYS * 86_400_000) {
    throw new SessiontrailError(
      'BAD_WINDOW',
      `the window is longer than ${MAX_WINDOW_DAYS} days: split it into several packs`,
    );
  }
  const sources = req.sources === undefined ? null : normaliseList(req.sources, 'source');
  if (sources !== null && sources.length === 0) bad('sources, when given, must name at least one source');
  for (const s of sources ?? [])
    if (!SOURCE_NAMES.includes(s))
      bad(`unknown source ${JSON.stringify(s)}: known sources are ${SOURCE_NAMES.join(', ')}`);
  const users = normaliseList(req.users ?? [], 'user');
  const hosts = normaliseList(req.hosts ?? [], 'host');
  const text = (name: string, v: string | undefined) => {
    if (v === undefined) return null;
    if (!NAME.test(v) || v.trim() === '') bad(`${name} must be 1-256 printable characters`);
    return v.trim();
  };
  const incidentId = text('incident id', req.incidentId);
  const requester = text('requester', req.requester);
  const reason = text('reason', req.reason);
  const controlReference = text('control reference', req.controlReference);
  if (req.kind === 'audit') {
    if (requester === null || reason === null) bad('an audit pack needs --requester and --reason');
    if (users.length === 0 && hosts.length === 0) bad('an audit pack needs at least one --user or --host');
  }
  if (req.kind === 'incident') {
    if (incidentId === null) bad('an incident pack needs --incident-id');
    if (users.length === 0 && hosts.length === 0) bad('an incident pack needs at least one --user or --host');
  }
  const series = req.series ?? req.kind;
  if (!SERIES.test(series) || series === 'keys')
    bad(`series must be lower-case letters, digits and - (not "keys"), received ${JSON.stringify(series)}`);
  return {
    kind: req.kind,
    fromMs,
    toMs,
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    sources,
    users,
    hosts,
    incidentId,
    requester,
    reason,
    controlReference,
    series,
    allowEmpty: req.allowEmpty === true,
  };
}

function parseTime(name: string, value: string): number {
  // A date-time without a zone would be read in the machine's zone: refuse it rather than guess.
  if (typeof value === 'string' && ZONELESS_TIME.test(value)) {
    throw new SessiontrailError(
      'BAD_WINDOW',
      `--${name} ${value} has no zone: add Z (UTC) or an offset such as +02:00`,
    );
  }
  if (typeof value !== 'string' || !DAY_OR_ZONED_TIME.test(value)) {
    throw new SessiontrailError(
      'BAD_WINDOW',
      `--${name} must be an ISO 8601 date or time such as 2024-07-01 or 2024-07-01T00:00:00Z, received ${JSON.stringify(value)}`,
    );
  }
  const t = parseCalendarTime(value);
  if ('problem' in t)
    throw new SessiontrailError('BAD_WINDOW', `--${name} ${value} is not a real date: it ${t.problem}`);
  return t.ms;
}

function normaliseList(values: readonly string[], what: string): string[] {
  const out = new Set<string>();
  for (const v of values) {
    if (typeof v !== 'string' || !NAME.test(v) || v.trim() === '') {
      throw new SessiontrailError(
        'BAD_REQUEST',
        `each ${what} must be 1-256 printable characters, received ${JSON.stringify(v)}`,
      );
    }
    out.add(v.trim());
  }
  return [...out].sort();
}
