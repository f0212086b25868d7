import { describe, expect, it } from 'vitest';
import { isSessiontrailError } from '../../lib/errors.ts';
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
    [{ ...audit, controlReference: 'SOX ITGC AC-07' }],
  ])('accepts %j', (event) => {
    expect(parseOnDemandEvent(event)).toEqual(event);
  });

  it.each([
    ['an unknown key', { ...audit, user: ['x'] }, 'unknown key(s) user'],
    ['an unknown action', { action: 'delete' }, 'expected action export, status or check'],
    ['a missing window', { action: 'export', kind: 'review' }, 'from: Required'],
    ['an unknown kind', { ...audit, kind: 'forensics' }, 'kind: Invalid enum value'],
    ['a time without a zone', { ...audit, from: '2024-07-01T00:00:00' }, 'from: expected a day'],
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
