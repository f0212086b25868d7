/**
 * The export request, as the CLI and the Lambdas build it, and its validation. A bad request is
 * refused with one message that says what to fix.
 */
import { z } from 'zod';
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

export const PACK_KINDS = ['review', 'audit', 'incident'] as const satisfies readonly PackKind[];
/** A pack covers at most a year: longer windows are a mistake more often than a need. */
export const MAX_WINDOW_DAYS = 366;
/** A series folder name: the one rule, used by the CLI's request and the Lambdas' events. */
export const SERIES = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * A series folder: {@link SERIES}, and not `keys` (the store's folder of public keys). Shared by
 * the request and the Lambdas' status event.
 */
export const seriesSchema = z.string().superRefine((v, ctx) => {
  if (!SERIES.test(v) || v === 'keys')
    ctx.addIssue({
      code: 'custom',
      message: `must be lower-case letters, digits and - (at most 63, not "keys"), received ${JSON.stringify(v)}`,
    });
});

/** A time bound: a day or a date-time with a zone, a real calendar date. */
const timeSchema = z.string().superRefine((v, ctx) => {
  const problem = (message: string) => ctx.addIssue({ code: 'custom', message, params: WINDOW_ISSUE });
  // A date-time without a zone would be read in the machine's zone: refuse it rather than guess.
  if (ZONELESS_TIME.test(v)) return problem(`${v} has no zone: add Z (UTC) or an offset such as +02:00`);
  if (v.length > 40 || !DAY_OR_ZONED_TIME.test(v))
    return problem(
      `must be an ISO 8601 date or time such as 2024-07-01 or 2024-07-01T00:00:00Z, received ${JSON.stringify(v)}`,
    );
  const t = parseCalendarTime(v);
  if ('problem' in t) problem(`${v} is not a real date: it ${t.problem}`);
});

/** A name, id or free text: 1-256 characters, no control characters, not blank; kept trimmed. */
const textSchema = z
  .string()
  .superRefine((v, ctx) => {
    if (v.length < 1 || v.length > 256 || /\p{Cc}/u.test(v) || v.trim() === '')
      ctx.addIssue({
        code: 'custom',
        message: `must be 1-256 printable characters, received ${JSON.stringify(v)}`,
      });
  })
  .transform((v) => v.trim());

/**
 * The fields of an {@link ExportRequest} and the check of each, as every caller gives them (the
 * CLI's flags, the on-demand event's keys, the schedule's request). A new request field is one
 * line here, one in {@link ExportRequest} and one in {@link ValidRequest}. The bounds (list sizes,
 * lengths) keep an event from asking for an unbounded pack.
 */
export const REQUEST_FIELDS = {
  kind: z.enum(PACK_KINDS, {
    errorMap: (_issue, ctx) => ({
      message: `must be one of ${PACK_KINDS.join(', ')}, received ${JSON.stringify(ctx.data)}`,
    }),
  }),
  from: timeSchema,
  to: timeSchema,
  sources: z
    .array(
      z.string().superRefine((v, ctx) => {
        if (!SOURCE_NAMES.includes(v))
          ctx.addIssue({
            code: 'custom',
            message: `unknown source ${JSON.stringify(v)}: known sources are ${SOURCE_NAMES.join(', ')}`,
          });
      }),
    )
    .min(1, 'when given, must name at least one source')
    .max(16)
    .optional(),
  users: z.array(textSchema).max(200).optional(),
  hosts: z.array(textSchema).max(200).optional(),
  incidentId: textSchema.optional(),
  requester: textSchema.optional(),
  reason: textSchema.optional(),
  controlReference: textSchema.optional(),
  series: seriesSchema.optional(),
  allowEmpty: z.boolean().optional(),
};

/** The request fields once checked (times still text, texts trimmed). */
export type RequestFields = z.output<z.ZodObject<typeof REQUEST_FIELDS>>;

/** Marks an issue as one of the window (`BAD_WINDOW`), the others being `BAD_REQUEST`. */
const WINDOW_ISSUE = { window: true } as const;

/**
 * The rules between fields: the window is forward and at most {@link MAX_WINDOW_DAYS} long, an
 * audit pack says who asked and why, audit and incident packs have a scope. Run by every caller's
 * schema after the fields' own checks.
 */
export function checkRequestRules(req: RequestFields, ctx: z.RefinementCtx): void {
  const fromMs = timeMs(req.from);
  const toMs = timeMs(req.to);
  // Unreadable bounds: the field checks already said so.
  if (!Number.isNaN(fromMs) && !Number.isNaN(toMs)) {
    const windowProblem = (message: string) =>
      ctx.addIssue({ code: 'custom', path: ['to'], message, params: WINDOW_ISSUE });
    if (toMs <= fromMs) windowProblem(`must be after from (${req.from}): the window is empty or reversed`);
    else if (toMs - fromMs > MAX_WINDOW_DAYS * 86_400_000)
      windowProblem(`the window is longer than ${MAX_WINDOW_DAYS} days: split it into several packs`);
  }
  const scoped = (req.users?.length ?? 0) > 0 || (req.hosts?.length ?? 0) > 0;
  const problem = (message: string) => ctx.addIssue({ code: 'custom', message });
  if (req.kind === 'audit') {
    if (req.requester === undefined || req.reason === undefined)
      problem('an audit pack needs --requester and --reason');
    if (!scoped) problem('an audit pack needs at least one --user or --host');
  }
  if (req.kind === 'incident') {
    if (req.incidentId === undefined) problem('an incident pack needs --incident-id');
    if (!scoped) problem('an incident pack needs at least one --user or --host');
  }
}

/** The request schema: the fields, strictly (an unknown key is refused), then the rules between them. */
export const exportRequestSchema = z.object(REQUEST_FIELDS).strict().superRefine(checkRequestRules);

/** Names the place of a problem in the caller's words: an event key path (`users.3`) or a CLI flag. */
export type ProblemPlace = (path: readonly (string | number)[]) => string;

/** Key paths as the request (and an event) spells them: `from`, `users.3`. */
export const keyPlace: ProblemPlace = (path) => path.join('.');

/**
 * One refusal naming every problem zod found, each as `<place>: <what to fix>` (a problem of the
 * whole request, without place, as is). With `windowCode`, `BAD_WINDOW` when every problem is one
 * of the window (the CLI's and the library's code since the first release); else, and for an event
 * (whose caller gets one code for any malformed event), `BAD_REQUEST`.
 */
export function refusal(
  what: string,
  error: z.ZodError,
  options: { readonly place?: ProblemPlace; readonly windowCode?: boolean } = {},
): SessiontrailError {
  const place = options.place ?? keyPlace;
  const problems = error.issues.map((i) => {
    const where = i.path.length === 0 ? '' : `${place(i.path)}: `;
    if (i.code === 'unrecognized_keys') return `${where || '(event): '}unknown key(s) ${i.keys.join(', ')}`;
    return `${where}${i.message}`;
  });
  const window =
    options.windowCode === true &&
    error.issues.every((i) => i.code === 'custom' && i.params?.window === true);
  return new SessiontrailError(window ? 'BAD_WINDOW' : 'BAD_REQUEST', `${what}${problems.join('; ')}`, {
    cause: error,
  });
}

/**
 * Validates a request (through {@link exportRequestSchema}, the one check of every caller).
 * @param place how the message names a field: the CLI passes its flags.
 * @throws SessiontrailError `BAD_REQUEST` or `BAD_WINDOW`, naming each field and what to fix.
 */
export function validateRequest(req: ExportRequest, place: ProblemPlace = keyPlace): ValidRequest {
  const parsed = exportRequestSchema.safeParse(req);
  if (!parsed.success) throw refusal('invalid request: ', parsed.error, { place, windowCode: true });
  const r = parsed.data;
  const fromMs = timeMs(r.from);
  const toMs = timeMs(r.to);
  return {
    kind: r.kind,
    fromMs,
    toMs,
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    sources: r.sources === undefined ? null : sortedSet(r.sources),
    users: sortedSet(r.users ?? []),
    hosts: sortedSet(r.hosts ?? []),
    incidentId: r.incidentId ?? null,
    requester: r.requester ?? null,
    reason: r.reason ?? null,
    controlReference: r.controlReference ?? null,
    series: r.series ?? r.kind,
    allowEmpty: r.allowEmpty === true,
  };
}

function timeMs(value: string): number {
  const t = parseCalendarTime(value);
  return 'ms' in t ? t.ms : Number.NaN;
}

function sortedSet(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}
