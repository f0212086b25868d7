import { describe, expect, it } from 'vitest';
import { isSessiontrailError } from '../../lib/errors.ts';
import { type ExportRequest, validateRequest } from '../../lib/evidence/request.ts';
import {
  parseOnDemandEvent,
  parseScheduledEvent,
  toExportRequest,
} from '../../lib/evidence/request-schema.ts';

const audit = {
  action: 'export',
  kind: 'audit',
  from: '2024-07-01',
  to: '2024-10-01',
  users: ['CORP\\adm.alice'],
  requester: 'J. Auditor',
  reason: 'Q3 SOX review',
};

function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (isSessiontrailError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('parseOnDemandEvent', () => {
  it('accepts an audit export and keeps its fields', () => {
    const event = parseOnDemandEvent(audit);
    expect(event).toEqual(audit);
    expect(toExportRequest(event as Extract<typeof event, { action: 'export' }>)).not.toHaveProperty(
      'action',
    );
  });

  it.each([
    [{ action: 'status', series: 'audit', packId: 'audit-2024-07-01-0123456789ab' }],
    [{ action: 'check' }],
    [{ ...audit, wait: true }],
    [{ ...audit, allowEmpty: true }],
    [{ ...audit, controlReference: 'SOX ITGC AC-07' }],
  ])('accepts %j', (event) => {
    expect(parseOnDemandEvent(event)).toEqual(event);
  });

  it.each([
    ['an unknown key', { ...audit, user: ['x'] }, 'unknown key(s) user'],
    ['an unknown action', { action: 'delete' }, 'expected action export, status or check'],
    ['a missing window', { action: 'export', kind: 'review' }, 'from: Required'],
    [
      'an unknown kind',
      { ...audit, kind: 'forensics' },
      'kind: must be one of review, audit, incident, received "forensics"',
    ],
    [
      'a time without a zone',
      { ...audit, from: '2024-07-01T00:00:00' },
      'from: 2024-07-01T00:00:00 has no zone: add Z (UTC) or an offset',
    ],
    ['a reversed window', { ...audit, from: '2024-10-01', to: '2024-07-01' }, 'to: must be after from'],
    ['a window over a year', { ...audit, from: '2022-01-01', to: '2024-01-01' }, 'longer than 366 days'],
    [
      'a window before the logs begin',
      { ...audit, from: '2010-01-01', to: '2010-02-01' },
      'must not be before 2015-01-01',
    ],
    ['an audit without a requester', { ...audit, requester: undefined }, 'needs --requester and --reason'],
    [
      'an incident without a user or host',
      { action: 'export', kind: 'incident', incidentId: 'IR-1', from: '2024-03-04', to: '2024-03-05' },
      'at least one --user or --host',
    ],
    ['an unknown source', { ...audit, sources: ['mainframe'] }, 'unknown source "mainframe"'],
    [
      'a control reference with a control character',
      { ...audit, controlReference: 'AC\u000707' },
      'controlReference',
    ],
    ['an empty control reference', { ...audit, controlReference: '' }, 'controlReference'],
    ['too many users', { ...audit, users: Array.from({ length: 201 }, (_, i) => `u${i}`) }, 'users'],
    ['a bad pack id', { action: 'status', series: 'audit', packId: '../../etc' }, 'expected a pack id'],
    [
      'a bad series',
      { action: 'status', series: 'Keys!', packId: 'audit-2024-07-01-0123456789ab' },
      'series',
    ],
    ['not an object', 'export please', 'Expected object, received string'],
  ])('refuses %s with a message that says what to fix', (_what, event, expected) => {
    const { code, message } = refusal(() => parseOnDemandEvent(event));
    expect(['BAD_REQUEST', 'BAD_WINDOW']).toContain(code);
    expect(message).toContain(expected);
  });
});

describe('parseScheduledEvent', () => {
  it('reads the scheduler target input', () => {
    expect(
      parseScheduledEvent({
        scheduledTime: '2024-04-01T06:00:00Z',
        scheduleArn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/default/x',
        executionId: 'e1',
        attempt: '1',
        timeZone: 'UTC',
      }),
    ).toEqual({
      scheduledTime: '2024-04-01T06:00:00Z',
      timeZone: 'UTC',
      series: undefined,
      executionId: 'e1',
      scheduleArn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/default/x',
    });
  });

  it("reads an EventBridge event's time", () => {
    const event = {
      version: '0',
      id: 'abc',
      'detail-type': 'Scheduled Event',
      source: 'aws.scheduler',
      account: '123456789012',
      time: '2024-04-01T06:00:00Z',
      region: 'eu-west-1',
      resources: [],
      detail: {},
    };
    expect(parseScheduledEvent(event).scheduledTime).toBe('2024-04-01T06:00:00Z');
  });

  it.each([
    [{}, 'scheduledTime: Required'],
    [{ scheduledTime: '2024-04-01T06:00:00Z', window: 'March' }, 'unknown key(s) window'],
    [{ 'detail-type': 'Scheduled Event', source: 'aws.events' }, 'time: Required'],
  ])('refuses %j', (event, expected) => {
    const { code, message } = refusal(() => parseScheduledEvent(event));
    expect(code).toBe('BAD_REQUEST');
    expect(message).toContain(expected);
  });
});

describe('validateRequest: the same fields and rules as the event, one zod schema', () => {
  const request = toExportRequest(
    parseOnDemandEvent(audit) as Extract<ReturnType<typeof parseOnDemandEvent>, { action: 'export' }>,
  );

  it.each([
    ['an unknown kind', { kind: 'forensics' }, 'kind: must be one of review, audit, incident'],
    ['a time without a zone', { from: '2024-07-01T00:00' }, 'from: 2024-07-01T00:00 has no zone'],
    ['a reversed window', { from: '2024-10-01', to: '2024-07-01' }, 'to: must be after from (2024-10-01)'],
    ['an audit without a reason', { reason: undefined }, 'an audit pack needs --requester and --reason'],
    ['an unknown source', { sources: ['mainframe'] }, 'sources.0: unknown source "mainframe"'],
    ['a blank user', { users: ['  '] }, 'users.0: must be 1-256 printable characters, received "  "'],
    ['the keys folder as series', { series: 'keys' }, 'series: must be lower-case letters'],
  ])('refuses %s with the message the event gets', (_what, change, expected) => {
    const changed = { ...request, ...change } as ExportRequest;
    const fromRequest = refusal(() => validateRequest(changed));
    const fromEvent = refusal(() => parseOnDemandEvent({ action: 'export', ...changed }));
    expect(fromRequest.message).toContain(expected);
    expect(fromEvent.message).toContain(expected);
    expect(fromRequest.message.replace('invalid request: ', '')).toBe(
      fromEvent.message.replace('invalid on-demand event: ', ''),
    );
  });

  it("carries the event's allowEmpty to the request, as the CLI's --allow-empty", () => {
    const event = parseOnDemandEvent({ ...audit, allowEmpty: true }) as Extract<
      ReturnType<typeof parseOnDemandEvent>,
      { action: 'export' }
    >;
    expect(validateRequest(toExportRequest(event)).allowEmpty).toBe(true);
    expect(validateRequest(request).allowEmpty).toBe(false);
  });

  it('names every problem at once, in the words of the caller (here, CLI flags)', () => {
    const { code, message } = refusal(() =>
      validateRequest({ kind: 'incident', from: '2024-02-30', to: '2024-03-01', users: [] }, (path) =>
        path[0] === 'from' ? '--from' : String(path[0]),
      ),
    );
    expect(code).toBe('BAD_REQUEST');
    expect(message).toBe(
      'invalid request: --from: 2024-02-30 is not a real date: it has day 30: 2024-02 has 29 days; ' +
        'an incident pack needs --incident-id; an incident pack needs at least one --user or --host',
    );
  });

  it('answers BAD_WINDOW when only the window is wrong (exit and error class of a window)', () => {
    expect(
      refusal(() => validateRequest({ kind: 'review', from: '2024-03-02', to: '2024-03-01' })).code,
    ).toBe('BAD_WINDOW');
    expect(
      refusal(() => validateRequest({ kind: 'review', from: '2022-01-01', to: '2024-01-01' })).message,
    ).toContain('the window is longer than 366 days: split it into several packs');
  });

  it('normalises: names trimmed, lists de-duplicated and sorted, the series defaults to the kind', () => {
    const valid = validateRequest({
      kind: 'incident',
      from: '2024-03-04T01:00:00+01:00',
      to: '2024-03-05',
      incidentId: ' IR-7 ',
      users: ['bob', ' alice', 'bob'],
      allowEmpty: true,
    });
    expect(valid).toMatchObject({
      from: '2024-03-04T00:00:00.000Z',
      to: '2024-03-05T00:00:00.000Z',
      incidentId: 'IR-7',
      users: ['alice', 'bob'],
      hosts: [],
      sources: null,
      series: 'incident',
      allowEmpty: true,
    });
  });
});
