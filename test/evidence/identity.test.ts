import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/config.ts';
import { tieToPerson } from '../../lib/evidence/identity.ts';

const config = parseConfig({
  identities: [
    {
      person: 'alice',
      accounts: [
        { sources: ['windows'], sids: ['S-1-5-21-1-2-3-1105'] },
        { sources: ['cloudtrail'], details: { source_identity: ['alice@corp.example'] } },
        { sources: ['linux-auditd'], names: ['alice'] },
      ],
    },
    { person: 'bob', accounts: [{ name_patterns: ['*/bob@corp.example'] }] },
  ],
});

describe('tieToPerson', () => {
  it.each([
    [
      'a Windows SID',
      {
        source: 'windows',
        user: { uid: 's-1-5-21-1-2-3-1105', name: 'adm.alice', domain: 'CORP' },
        details: [],
      },
      'alice',
      'windows: sid S-1-5-21-1-2-3-1105 (configured)',
    ],
    [
      'a CloudTrail source identity',
      {
        source: 'cloudtrail',
        user: { uid: 'arn:aws:sts::1:assumed-role/R/x', name: 'R/x', domain: null },
        details: [{ name: 'source_identity', value: 'alice@corp.example' }],
      },
      'alice',
      'cloudtrail: source_identity alice@corp.example (configured)',
    ],
    [
      'a Linux login',
      { source: 'linux-auditd', user: { uid: '1000', name: 'alice', domain: null }, details: [] },
      'alice',
      'linux-auditd: name alice (configured)',
    ],
    [
      'a name pattern',
      {
        source: 'cloudtrail',
        user: { uid: null, name: 'AWSReservedSSO_Admin/bob@corp.example', domain: null },
        details: [],
      },
      'bob',
      'cloudtrail: name pattern */bob@corp.example (configured)',
    ],
  ])('ties %s to its person and says how', (_what, session, person, tie) => {
    expect(tieToPerson(session, config.identities)).toEqual({ id: person, tie });
  });

  it('ties nothing that no spec names, and respects the source restriction', () => {
    expect(
      tieToPerson(
        { source: 'windows', user: { uid: null, name: 'alice', domain: null }, details: [] },
        config.identities,
      ),
    ).toBeNull();
    expect(
      tieToPerson(
        { source: 'linux-auditd', user: { uid: '1001', name: 'mallory', domain: null }, details: [] },
        config.identities,
      ),
    ).toBeNull();
  });
});

describe('parseConfig identities', () => {
  it.each([
    [{ identities: [{ person: 'a' }] }, /identities\[0\]\.accounts must be a non-empty list/],
    [
      { identities: [{ person: 'a', accounts: [{ sources: ['windows'] }] }] },
      /must name at least one account criterion/,
    ],
    [
      { identities: [{ person: 'a', accounts: [{ names: ['x'], colour: 'red' }] }] },
      /unknown key identities\[0\]\.accounts\[0\]\.colour/,
    ],
    [
      {
        identities: [
          { person: 'a', accounts: [{ names: ['x'] }] },
          { person: 'a', accounts: [{ names: ['y'] }] },
        ],
      },
      /each person once/,
    ],
  ])('refuses %j with a message naming the key', (input, message) => {
    expect(() => parseConfig(input)).toThrow(message);
  });
});
