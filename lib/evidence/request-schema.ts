/**
 * The events the Lambdas accept, as zod schemas: strict (an unknown key is refused, so a typo such
 * as `user` for `users` is an error rather than a wider pack), bounded (list sizes, text lengths,
 * the window), and answered with one message that names every problem. The request rules that
 * need no AWS (audit needs a requester, …) stay in {@link validateRequest}; this adds the shape.
 */
import { z } from 'zod';
import { SessiontrailError } from '../errors.ts';
import { DAY_OR_ZONED_TIME, parseCalendarTime } from './calendar-time.ts';
import { type ExportRequest, MAX_WINDOW_DAYS, PACK_KINDS, SERIES, validateRequest } from './request.ts';

/** `<kind>-<YYYY-MM-DD>-<12 hex>`, as exportEvidence names packs. */
export const PACK_ID = /^(review|audit|incident)-\d{4}-\d{2}-\d{2}-[0-9a-f]{12}$/;
/** The earliest day a window may start: the raw tables' partition projection begins there. */
export const EARLIEST_DAY = '2015-01-01';

const time = z
  .string()
  .max(40)
  .regex(DAY_OR_ZONED_TIME, 'expected a day (2024-07-01) or a time with a zone (2024-07-01T00:00:00Z)')
  .superRefine((v, ctx) => {
    const t = parseCalendarTime(v);
    if ('problem' in t && DAY_OR_ZONED_TIME.test(v))
      ctx.addIssue({ code: 'custom', message: `not a real date: it ${t.problem}` });
  });
const name = z
  .string()
  .min(1)
  .max(256)
  .refine((v) => !/\p{Cc}/u.test(v), 'control characters are not allowed');
const series = z.string().regex(SERIES, 'expected lower-case letters, digits and -, at most 63');

/** The fields of an {@link ExportRequest}, as an event carries them. */
const requestFields = {
  kind: z.enum(PACK_KINDS as [string, ...string[]]),
  from: time,
  to: time,
  sources: z.array(z.string().min(1).max(64)).min(1).max(16).optional(),
  users: z.array(name).max(200).optional(),
  hosts: z.array(name).max(200).optional(),
  incidentId: name.optional(),
  requester: name.optional(),
  reason: name.optional(),
  controlReference: name.optional(),
  series: series.optional(),
};

const exportEvent = z
  .object({
    action: z.literal('export'),
    ...requestFields,
    /**
     * `false` (default): answer at once with the pack's id and location and build the pack in an
     * asynchronous invocation; `true`: build it in this invocation and answer with the outcome.
     */
    wait: z.boolean().optional(),
  })
  .strict();

const statusEvent = z
  .object({
    action: z.literal('status'),
    series,
    packId: z.string().regex(PACK_ID, 'expected a pack id such as audit-2024-07-01-0123456789ab'),
  })
  .strict();

const checkEvent = z.object({ action: z.literal('check') }).strict();

export const onDemandEventSchema = z
  .discriminatedUnion('action', [exportEvent, statusEvent, checkEvent], {
    errorMap: (issue, ctx) =>
      issue.code === 'invalid_union_discriminator'
        ? { message: 'expected action export, status or check' }
        : { message: ctx.defaultError },
  })
  .superRefine((event, ctx) => {
    if (event.action === 'export') checkWindow(event.from, event.to, ctx);
  });

export type OnDemandEvent = z.infer<typeof onDemandEventSchema>;
export type ExportEvent = Extract<OnDemandEvent, { action: 'export' }>;

/** Scheduler target input (`<aws.scheduler.*>` context attributes, see infra/constructs/exporter.ts). */
const schedulerInput = z
  .object({
    scheduledTime: z.string().max(40),
    scheduleArn: z.string().max(2048).optional(),
    executionId: z.string().max(256).optional(),
    attempt: z.union([z.string().max(16), z.number().int()]).optional(),
    timeZone: z.string().min(1).max(64).optional(),
    series: series.optional(),
  })
  .strict();

/** An EventBridge event (a rule, or a scheduler's EventBridge target): its `time` is the schedule's. */
const eventBridgeEvent = z
  .object({
    version: z.string().optional(),
    id: z.string().optional(),
    'detail-type': z.string(),
    source: z.string(),
    account: z.string().optional(),
    time: z.string().max(40),
    region: z.string().optional(),
    resources: z.array(z.string()).optional(),
    detail: z.record(z.unknown()).optional(),
  })
  .strict();

export const scheduledEventSchema = z.union([schedulerInput, eventBridgeEvent]);

/** A scheduled event reduced to what the window needs. */
export interface ScheduledEvent {
  readonly scheduledTime: string;
  readonly timeZone: string | undefined;
  readonly series: string | undefined;
  readonly executionId: string | undefined;
  /** The schedule's ARN (`<aws.scheduler.schedule-arn>`), recorded as the pack's operator. */
  readonly scheduleArn?: string | undefined;
}

/**
 * Parses an on-demand event and checks the request it carries.
 * @throws SessiontrailError `BAD_REQUEST` (or `BAD_WINDOW`) naming every problem found.
 */
export function parseOnDemandEvent(input: unknown): OnDemandEvent {
  const parsed = onDemandEventSchema.safeParse(input);
  if (!parsed.success) throw badEvent('on-demand event', parsed.error);
  if (parsed.data.action === 'export') validateRequest(toExportRequest(parsed.data));
  return parsed.data;
}

/**
 * Parses a scheduled event: the scheduler's target input or an EventBridge event.
 * @throws SessiontrailError `BAD_REQUEST` naming every problem found.
 */
export function parseScheduledEvent(input: unknown): ScheduledEvent {
  // Choose the shape by its marker key, so that the message is about that shape, not "invalid union".
  const isEventBridge =
    typeof input === 'object' && input !== null && ('detail-type' in input || 'time' in input);
  const parsed = (isEventBridge ? eventBridgeEvent : schedulerInput).safeParse(input);
  if (!parsed.success) throw badEvent('scheduled event', parsed.error);
  const e = parsed.data as z.infer<typeof scheduledEventSchema>;
  if ('scheduledTime' in e) {
    return {
      scheduledTime: e.scheduledTime,
      timeZone: e.timeZone,
      series: e.series,
      executionId: e.executionId,
      scheduleArn: e.scheduleArn,
    };
  }
  return { scheduledTime: e.time, timeZone: undefined, series: undefined, executionId: e.id };
}

/** The {@link ExportRequest} of an export event (the event's own keys dropped). */
export function toExportRequest(event: ExportEvent): ExportRequest {
  const { action: _action, wait: _wait, ...rest } = event;
  return rest as ExportRequest;
}

function checkWindow(from: string, to: string, ctx: z.RefinementCtx): void {
  const ms = (v: string) => {
    const t = parseCalendarTime(v);
    return 'ms' in t ? t.ms : Number.NaN;
  };
  const fromMs = ms(from);
  const toMs = ms(to);
  if (Number.isNaN(fromMs) || Number.isNaN(toMs)) return; // the field checks already said so
  if (toMs <= fromMs) ctx.addIssue({ code: 'custom', path: ['to'], message: `must be after from (${from})` });
  if (toMs - fromMs > MAX_WINDOW_DAYS * 86_400_000)
    ctx.addIssue({
      code: 'custom',
      path: ['to'],
      message: `the window is longer than ${MAX_WINDOW_DAYS} days`,
    });
  if (fromMs < Date.parse(`${EARLIEST_DAY}T00:00:00Z`))
    ctx.addIssue({ code: 'custom', path: ['from'], message: `must not be before ${EARLIEST_DAY}` });
}

function badEvent(what: string, error: z.ZodError): SessiontrailError {
  const problems = error.issues.map((i) => {
    const where = i.path.length === 0 ? '(event)' : i.path.join('.');
    if (i.code === 'unrecognized_keys') return `${where}: unknown key(s) ${i.keys.join(', ')}`;
    return `${where}: ${i.message}`;
  });
  return new SessiontrailError('BAD_REQUEST', `invalid ${what}: ${problems.join('; ')}`, { cause: error });
}
