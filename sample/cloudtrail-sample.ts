/**
 * The seeded CloudTrail sample: files laid out as CloudTrail delivers them
 * (`<outDir>/cloudtrail/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<id>.json.gz`,
 * one minified `{"Records":[…]}` per file, records shuffled) and a ground truth
 * (`cloudtrail-ground-truth.json`, see {@link CloudTrailGroundTruth}). The same options give the same
 * bytes.
 *
 * Each day: an IAM Identity Center administrator (`AWSReservedSSO_AdministratorAccess_…`, via
 * AssumeRoleWithSAML) who chains into a deploy role that attaches a policy; a read-only SSO user; a
 * console sign-in with MFA that creates an access key; a failed then a successful console sign-in
 * without MFA; a CI user's long-term key in two bursts (the second stops CloudTrail logging); AWS
 * service events; two duplicated records. The first day adds a root console session and a
 * malformed file.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { CloudTrailGroundTruth, CtGtFinding, CtGtSession } from './cloudtrail-ground-truth.ts';
import { deriveSeed, Rng } from './prng.ts';

export type { CloudTrailGroundTruth, CtGtFinding, CtGtSession } from './cloudtrail-ground-truth.ts';

export interface CloudTrailSampleOptions {
  readonly seed: number;
  /** Number of UTC days, 1 to 366. */
  readonly days: number;
  /** First day: `YYYY-MM-DD`. */
  readonly from: string;
  readonly outDir: string;
}

export interface CloudTrailSampleResult {
  /** Written files, relative to `outDir`, sorted. */
  readonly files: readonly string[];
  readonly records: number;
  readonly groundTruthPath: string;
  readonly window: { readonly from: string; readonly to: string };
}

const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const SSO_ADMIN = 'AWSReservedSSO_AdministratorAccess_1a2b3c4d5e6f7a8b';
const SSO_READ = 'AWSReservedSSO_ReadOnlyAccess_8b7a6f5e4d3c2b1a';
const SAML_PROVIDER = `arn:aws:iam::${ACCOUNT}:saml-provider/AWSSSO_0123456789abcdef_DO_NOT_DELETE`;

type Json = Record<string, unknown>;
interface Written {
  readonly id: number;
  readonly t: number;
  readonly record: Json;
}

/** STS's `credentials.expiration` form: `Mar 4, 2024, 9:05:00 AM` (UTC). */
export function stsExpiration(ms: number): string {
  const d = new Date(ms);
  const h = d.getUTCHours();
  const two = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}, ${h % 12 === 0 ? 12 : h % 12}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`;
}

const isoSec = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const isoMs = (ms: number) => new Date(ms).toISOString();

/**
 * Writes the sample and its ground truth.
 * @throws RangeError when `days` is not 1 to 366 or `from` is not a day.
 */
export async function generateCloudTrailSample(
  options: CloudTrailSampleOptions,
): Promise<CloudTrailSampleResult> {
  const { seed, days, outDir } = options;
  if (!Number.isInteger(days) || days < 1 || days > 366)
    throw new RangeError(`days must be 1 to 366, received ${days}`);
  const start = Date.parse(`${options.from.slice(0, 10)}T00:00:00Z`);
  if (Number.isNaN(start)) throw new RangeError(`from must be YYYY-MM-DD, received ${options.from}`);
  const rng = new Rng(deriveSeed('cloudtrail-sample', seed, days, options.from));
  const hex = (n: number) => Array.from({ length: n }, () => rng.int(0, 15).toString(16)).join('');
  const b32 = (n: number) =>
    Array.from({ length: n }, () => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[rng.int(0, 31)]).join('');
  const newKey = (prefix: 'ASIA' | 'AKIA') => `${prefix}${b32(16)}`;

  const written: Written[] = [];
  const duplicateIds: number[] = [];
  const sessions: (Omit<CtGtSession, 'activity'> & { activityIds: number[] })[] = [];
  const failedLogons: string[] = [];
  let serviceEvents = 0;

  // What the findings rules must raise, as the scenario intends it: [rule id, finding key, record id].
  const findings: [string, string, number][] = [];
  const flag = (rule: string, id: number, key = String(id)) => {
    findings.push([rule, key, id]);
    return id;
  };
  const emit = (t: number, source: string, name: string, identity: Json, extra: Json = {}): number => {
    const id = written.length;
    written.push({
      id,
      t,
      record: {
        eventVersion: '1.08',
        userIdentity: identity,
        eventTime: isoSec(t),
        eventSource: source,
        eventName: name,
        awsRegion: REGION,
        sourceIPAddress: (extra.sourceIPAddress as string | undefined) ?? '203.0.113.10',
        userAgent: 'aws-cli/2.15.30 Python/3.11.8',
        requestParameters: null,
        responseElements: null,
        requestID: `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`,
        eventID: `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`,
        readOnly: /^(List|Describe|Get)/.test(name),
        eventType: source === 'signin.amazonaws.com' ? 'AwsConsoleSignIn' : 'AwsApiCall',
        managementEvent: true,
        recipientAccountId: ACCOUNT,
        eventCategory: 'Management',
        ...extra,
      },
    });
    return id;
  };

  const assumed = (
    role: string,
    path: string,
    session: string,
    key: string,
    created: number,
    mfa: boolean,
  ): Json => ({
    type: 'AssumedRole',
    principalId: `AROA${b32(17)}:${session}`,
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${session}`,
    accountId: ACCOUNT,
    accessKeyId: key,
    sessionContext: {
      sessionIssuer: {
        type: 'Role',
        arn: `arn:aws:iam::${ACCOUNT}:role/${path}${role}`,
        accountId: ACCOUNT,
        userName: role,
      },
      attributes: { creationDate: isoSec(created), mfaAuthenticated: String(mfa) },
    },
  });
  const iamUser = (name: string, key?: string, console?: { created: number; mfa: boolean }): Json => ({
    type: 'IAMUser',
    principalId: `AIDA${b32(17)}`,
    arn: `arn:aws:iam::${ACCOUNT}:user/${name}`,
    accountId: ACCOUNT,
    userName: name,
    ...(key === undefined ? {} : { accessKeyId: key }),
    ...(console === undefined
      ? {}
      : {
          sessionContext: {
            attributes: { creationDate: isoSec(console.created), mfaAuthenticated: String(console.mfa) },
          },
        }),
  });

  /** A credential-issuing STS call; returns its record id and the key and expiry it returned. */
  const issue = (t: number, name: string, caller: Json, role: string, path: string, session: string) => {
    const key = newKey('ASIA');
    const expires = t + HOUR;
    const arn = `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${session}`;
    const id = emit(t, 'sts.amazonaws.com', name, caller, {
      requestParameters: {
        roleArn: `arn:aws:iam::${ACCOUNT}:role/${path}${role}`,
        roleSessionName: session,
        durationSeconds: 3600,
        ...(name === 'AssumeRoleWithSAML' ? { principalArn: SAML_PROVIDER } : {}),
      },
      responseElements: {
        credentials: {
          accessKeyId: key,
          sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE',
          expiration: stsExpiration(expires),
        },
        assumedRoleUser: { assumedRoleId: `AROA${b32(17)}:${session}`, arn },
        ...(name === 'AssumeRoleWithSAML'
          ? { subject: session, issuer: 'https://portal.sso.us-east-1.amazonaws.com/saml/assertion/EXAMPLE' }
          : {}),
      },
    });
    return { id, key, expires, arn };
  };

  /** Spreads `n` calls after `t0`, 1 to `maxStep` minutes apart. */
  const times = (t0: number, n: number, maxStep: number) => {
    const out: number[] = [];
    let t = t0;
    for (let i = 0; i < n; i++) {
      t += rng.int(1, maxStep) * MINUTE + rng.int(0, 59) * 1000;
      out.push(t);
    }
    return out;
  };

  for (let day = 0; day < days; day++) {
    const D = start + day * 24 * HOUR;

    // 1. SSO administrator, chaining into a deploy role.
    const t1 = D + 9 * HOUR + rng.int(0, 30) * MINUTE;
    const saml: Json = {
      type: 'SAMLUser',
      principalId: `${SAML_PROVIDER}:alice@corp.example`,
      userName: 'alice@corp.example',
      identityProvider: SAML_PROVIDER,
    };
    const admin = issue(
      t1,
      'AssumeRoleWithSAML',
      saml,
      SSO_ADMIN,
      'aws-reserved/sso.amazonaws.com/',
      'alice@corp.example',
    );
    const adminIdentity = assumed(
      SSO_ADMIN,
      'aws-reserved/sso.amazonaws.com/',
      'alice@corp.example',
      admin.key,
      t1,
      true,
    );
    const adminCalls = times(t1, rng.int(3, 6), 8);
    const adminIds: number[] = [];
    let chain: { id: number; key: string; expires: number; arn: string; t: number } | null = null;
    adminCalls.forEach((t, i) => {
      if (i === 1) {
        const c = issue(t, 'AssumeRole', adminIdentity, 'DeployRole', '', `deploy-${day}`);
        chain = { ...c, t };
        adminIds.push(c.id);
      } else {
        const [source, name] = rng.pick([
          ['ec2.amazonaws.com', 'DescribeInstances'],
          ['iam.amazonaws.com', 'ListRoles'],
          ['s3.amazonaws.com', 'ListBuckets'],
        ] as const);
        adminIds.push(emit(t, source, name, adminIdentity));
      }
    });
    duplicateIds.push(adminIds[0] as number);
    sessions.push({
      host: ACCOUNT,
      logon_id: admin.key,
      kind: 'sso_role',
      user_uid: admin.arn,
      linked_logon_id: null,
      start: isoMs(t1),
      end: isoMs(admin.expires),
      end_reason: 'credentials_expired',
      privileged: true,
      mfa: null,
      activityIds: adminIds,
    });
    const ch = chain as unknown as { id: number; key: string; expires: number; arn: string; t: number };
    const chainIdentity = assumed('DeployRole', '', `deploy-${day}`, ch.key, ch.t, false);
    const chainIds = [
      flag(
        'iam-policy-granted',
        emit(ch.t + 2 * MINUTE, 'iam.amazonaws.com', 'AttachRolePolicy', chainIdentity, {
          requestParameters: {
            roleName: 'app-role',
            policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess',
          },
        }),
      ),
      emit(ch.t + 4 * MINUTE, 'ec2.amazonaws.com', 'DescribeInstances', chainIdentity),
    ];
    sessions.push({
      host: ACCOUNT,
      logon_id: ch.key,
      kind: 'role_chain',
      user_uid: ch.arn,
      linked_logon_id: admin.key,
      start: isoMs(ch.t),
      end: isoMs(ch.expires),
      end_reason: 'credentials_expired',
      privileged: true,
      mfa: null,
      activityIds: chainIds,
    });

    // 2. Read-only SSO user.
    const t2 = D + 11 * HOUR + rng.int(0, 30) * MINUTE;
    const samlBob: Json = {
      type: 'SAMLUser',
      principalId: `${SAML_PROVIDER}:bob@corp.example`,
      userName: 'bob@corp.example',
      identityProvider: SAML_PROVIDER,
    };
    const ro = issue(
      t2,
      'AssumeRoleWithSAML',
      samlBob,
      SSO_READ,
      'aws-reserved/sso.amazonaws.com/',
      'bob@corp.example',
    );
    const roIdentity = assumed(
      SSO_READ,
      'aws-reserved/sso.amazonaws.com/',
      'bob@corp.example',
      ro.key,
      t2,
      false,
    );
    const roIds = times(t2, rng.int(2, 4), 10).map((t) =>
      emit(t, 's3.amazonaws.com', 'ListBuckets', roIdentity),
    );
    sessions.push({
      host: ACCOUNT,
      logon_id: ro.key,
      kind: 'sso_role',
      user_uid: ro.arn,
      linked_logon_id: null,
      start: isoMs(t2),
      end: isoMs(ro.expires),
      end_reason: 'credentials_expired',
      privileged: false,
      mfa: null,
      activityIds: roIds,
    });

    // 3, 4, 6. Console sessions: carol with MFA (creates an access key), dave without MFA after a
    // failed attempt, and root on the first day.
    const consoleSession = (
      t: number,
      identity: (key: string) => Json,
      arn: string,
      mfa: boolean,
      calls: readonly (readonly [string, string])[],
      privileged: boolean,
      dup: boolean,
    ) => {
      const loginIdentity: Json = { ...identity(''), accessKeyId: undefined, sessionContext: undefined };
      const loginId = emit(
        t,
        'signin.amazonaws.com',
        'ConsoleLogin',
        JSON.parse(JSON.stringify(loginIdentity)) as Json,
        {
          responseElements: { ConsoleLogin: 'Success' },
          additionalEventData: {
            LoginTo: 'https://console.aws.amazon.com/console/home',
            MobileVersion: 'No',
            MFAUsed: mfa ? 'Yes' : 'No',
          },
          sourceIPAddress: '198.51.100.23',
          userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0',
        },
      );
      if (dup) duplicateIds.push(loginId);
      if (!mfa) flag('console-login-without-mfa', loginId);
      if (arn.endsWith(':root')) flag('privileged-account-use', loginId);
      const keys = [newKey('ASIA'), newKey('ASIA')];
      const callTimes = times(t, calls.length, 6);
      const ids = calls.map(([source, name], i) => {
        const id = emit(callTimes[i] as number, source, name, identity(keys[i % 2] as string), {
          sessionCredentialFromConsole: 'true',
          sourceIPAddress: '198.51.100.23',
          userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0',
          ...(name === 'CreateAccessKey' ? { requestParameters: { userName: 'ci-bot' } } : {}),
        });
        return name === 'CreateAccessKey' ? flag('account-changed', id) : id;
      });
      sessions.push({
        host: ACCOUNT,
        logon_id: `${arn}@${isoSec(t)}`,
        kind: 'console',
        user_uid: arn,
        linked_logon_id: null,
        start: isoMs(t),
        end: isoMs(callTimes[callTimes.length - 1] ?? t),
        end_reason: 'last_activity',
        privileged,
        mfa,
        activityIds: ids,
      });
    };
    const t3 = D + 13 * HOUR + rng.int(0, 30) * MINUTE;
    consoleSession(
      t3,
      (key) => iamUser('carol', key || undefined, { created: t3, mfa: true }),
      `arn:aws:iam::${ACCOUNT}:user/carol`,
      true,
      [
        ['iam.amazonaws.com', 'ListUsers'],
        ['iam.amazonaws.com', 'CreateAccessKey'],
        ['ec2.amazonaws.com', 'DescribeInstances'],
      ],
      true,
      true,
    );
    const t4 = D + 15 * HOUR + rng.int(0, 30) * MINUTE;
    // Every failed sign-in of dave, over all days, is one failed-logons finding (per account and account id).
    flag(
      'failed-logons',
      emit(
        t4 - 2 * MINUTE,
        'signin.amazonaws.com',
        'ConsoleLogin',
        {
          type: 'IAMUser',
          principalId: `AIDA${b32(17)}`,
          arn: `arn:aws:iam::${ACCOUNT}:user/dave`,
          accountId: ACCOUNT,
          userName: 'dave',
        },
        {
          responseElements: { ConsoleLogin: 'Failure' },
          errorMessage: 'Failed authentication',
          additionalEventData: { MFAUsed: 'No' },
        },
      ),
      'dave',
    );
    failedLogons.push(`arn:aws:iam::${ACCOUNT}:user/dave@${isoSec(t4 - 2 * MINUTE)}`);
    if (day === 0) {
      // A password spray: one address tries four accounts within four seconds (a spray finding,
      // and a failed-logons finding per account tried).
      const t5 = D + 16 * HOUR + rng.int(0, 30) * MINUTE;
      for (const [i, user] of ['carol', 'dave', 'erin', 'frank'].entries()) {
        const at = t5 + i * 1000;
        const id = emit(
          at,
          'signin.amazonaws.com',
          'ConsoleLogin',
          {
            type: 'IAMUser',
            principalId: `AIDA${b32(17)}`,
            arn: `arn:aws:iam::${ACCOUNT}:user/${user}`,
            accountId: ACCOUNT,
            userName: user,
          },
          {
            responseElements: { ConsoleLogin: 'Failure' },
            errorMessage: 'Failed authentication',
            additionalEventData: { MFAUsed: 'No' },
            sourceIPAddress: '192.0.2.66',
          },
        );
        flag('password-spray', id, 'spray');
        flag('failed-logons', id, user);
        failedLogons.push(`arn:aws:iam::${ACCOUNT}:user/${user}@${isoSec(at)}`);
      }
    }
    consoleSession(
      t4,
      (key) => iamUser('dave', key || undefined, { created: t4, mfa: false }),
      `arn:aws:iam::${ACCOUNT}:user/dave`,
      false,
      [
        ['s3.amazonaws.com', 'ListBuckets'],
        ['ec2.amazonaws.com', 'DescribeInstances'],
      ],
      false,
      false,
    );
    if (day === 0) {
      const t6 = D + 20 * HOUR + rng.int(0, 30) * MINUTE;
      const rootArn = `arn:aws:iam::${ACCOUNT}:root`;
      consoleSession(
        t6,
        (key) => ({
          type: 'Root',
          principalId: ACCOUNT,
          arn: rootArn,
          accountId: ACCOUNT,
          ...(key
            ? {
                accessKeyId: key,
                sessionContext: { attributes: { creationDate: isoSec(t6), mfaAuthenticated: 'true' } },
              }
            : {}),
        }),
        rootArn,
        true,
        [
          ['account.amazonaws.com', 'GetContactInformation'],
          ['billing.amazonaws.com', 'GetBillingPreferences'],
        ],
        true,
        false,
      );
    }

    // 5. A CI user's long-term key in two bursts; the second stops CloudTrail logging.
    const ciKey = `AKIA${b32(16)}`;
    const ciArn = `arn:aws:iam::${ACCOUNT}:user/ci-bot`;
    for (const [hour, calls, privileged] of [
      [
        2,
        [
          ['ecr.amazonaws.com', 'GetAuthorizationToken'],
          ['ecs.amazonaws.com', 'DescribeServices'],
          ['ecs.amazonaws.com', 'ListTasks'],
        ],
        false,
      ],
      [
        4,
        [
          ['ecs.amazonaws.com', 'DescribeServices'],
          // A denied attempt first, then the call that succeeds: both are tampering findings.
          ['cloudtrail.amazonaws.com', 'DeleteTrail'],
          ['cloudtrail.amazonaws.com', 'StopLogging'],
        ],
        true,
      ],
    ] as const) {
      const ts = times(D + hour * HOUR + rng.int(0, 20) * MINUTE, calls.length, 5);
      const ids = calls.map(([source, name], i) => {
        const id = emit(
          ts[i] as number,
          source,
          name,
          iamUser('ci-bot', ciKey),
          name === 'StopLogging'
            ? { requestParameters: { name: 'org-trail' } }
            : name === 'DeleteTrail'
              ? {
                  requestParameters: { name: 'org-trail' },
                  errorCode: 'AccessDenied',
                  errorMessage: 'denied',
                }
              : {},
        );
        return source === 'cloudtrail.amazonaws.com' ? flag('audit-logging-stopped', id) : id;
      });
      sessions.push({
        host: ACCOUNT,
        logon_id: ciKey,
        kind: 'long_term_key_burst',
        user_uid: ciArn,
        linked_logon_id: null,
        start: isoMs(ts[0] as number),
        end: isoMs(ts[ts.length - 1] as number),
        end_reason: 'last_activity',
        privileged,
        mfa: null,
        activityIds: ids,
      });
    }

    // 7. AWS service events (skipped).
    for (const t of [D + 6 * HOUR, D + 18 * HOUR]) {
      emit(
        t,
        'kms.amazonaws.com',
        'Decrypt',
        { type: 'AWSService', invokedBy: 'cloudtrail.amazonaws.com' },
        { sourceIPAddress: 'cloudtrail.amazonaws.com' },
      );
      serviceEvents += 1;
    }
  }

  // Files: one per (day, hour), records shuffled; duplicates in a file delivered last that day.
  const files = new Map<string, Written[]>();
  const fileOf = (w: Written, suffix: string) => {
    const d = new Date(w.t);
    const ymd = d.toISOString().slice(0, 10).replaceAll('-', '');
    const hh = String(d.getUTCHours()).padStart(2, '0');
    const folder = `cloudtrail/AWSLogs/${ACCOUNT}/CloudTrail/${REGION}/${ymd.slice(0, 4)}/${ymd.slice(4, 6)}/${ymd.slice(6, 8)}`;
    return `${folder}/${ACCOUNT}_CloudTrail_${REGION}_${ymd}T${suffix === 'dup' ? '2359' : `${hh}55`}Z_${suffix === 'dup' ? 'zzDuplicates0000' : hh}`;
  };
  for (const w of written) {
    const name = fileOf(w, 'main');
    files.set(name, [...(files.get(name) ?? []), w]);
  }
  for (const id of duplicateIds) {
    const w = written[id] as Written;
    const name = fileOf(w, 'dup');
    files.set(name, [...(files.get(name) ?? []), w]);
  }
  const refOf = new Map<number, string>();
  const out: string[] = [];
  for (const name of [...files.keys()].sort()) {
    const list = files.get(name) as Written[];
    const shuffled = [...list];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [shuffled[i], shuffled[j]] = [shuffled[j] as Written, shuffled[i] as Written];
    }
    // real file names end in a 16-character id
    const path = `${name}${name.endsWith('zzDuplicates0000') ? '' : b32(14)}.json.gz`;
    shuffled.forEach((w, i) => {
      if (!refOf.has(w.id)) refOf.set(w.id, `${path}#record=${i}`);
    });
    await mkdir(join(outDir, dirname(path)), { recursive: true });
    await writeFile(join(outDir, path), gzipSync(JSON.stringify({ Records: shuffled.map((w) => w.record) })));
    out.push(path);
  }
  // A file cut off mid-record (gzip intact): the intake splits a CloudTrail document per record,
  // so the one cut element is a truncated record (whole records before it would be kept).
  const day0 = new Date(start).toISOString().slice(0, 10).replaceAll('-', '');
  const bad = `cloudtrail/AWSLogs/${ACCOUNT}/CloudTrail/${REGION}/${day0.slice(0, 4)}/${day0.slice(4, 6)}/${day0.slice(6, 8)}/${ACCOUNT}_CloudTrail_${REGION}_${day0}T0005Z_CutOffMidRecord0.json.gz`;
  await writeFile(
    join(outDir, bad),
    gzipSync('{"Records":[{"eventVersion":"1.08","userIdentity":{"type":"IAMUser",'),
  );
  out.push(bad);

  const window = { from: isoMs(start), to: isoMs(start + days * 24 * HOUR) };
  const truth: CloudTrailGroundTruth = {
    account: ACCOUNT,
    region: REGION,
    window,
    sessions: sessions.map(({ activityIds, ...s }) => ({
      ...s,
      activity: activityIds.map((id) => refOf.get(id) as string).sort(),
    })),
    failed_logons: failedLogons,
    findings: groupFindings(findings, refOf),
    records: written.length + duplicateIds.length,
    duplicates: duplicateIds.length,
    rejected: { truncated_record: 1 },
    skipped: { aws_service_caller: serviceEvents },
  };
  const groundTruthPath = join(outDir, 'cloudtrail-ground-truth.json');
  await writeFile(groundTruthPath, `${JSON.stringify(sortKeys(truth), null, 2)}\n`);
  return { files: out.sort(), records: written.length + duplicateIds.length, groundTruthPath, window };
}

/** The intended findings as the ground truth states them: per rule and key, the records, sorted. */
function groupFindings(
  flagged: readonly (readonly [string, string, number])[],
  refOf: ReadonlyMap<number, string>,
): CtGtFinding[] {
  const byKey = new Map<string, { rule_id: string; records: string[] }>();
  for (const [rule, key, id] of flagged) {
    const entry = byKey.get(`${rule}\u0000${key}`) ?? { rule_id: rule, records: [] };
    entry.records.push(refOf.get(id) as string);
    byKey.set(`${rule}\u0000${key}`, entry);
  }
  return [...byKey.values()]
    .map((f) => ({ rule_id: f.rule_id, records: [...f.records].sort() }))
    .sort((a, b) => (`${a.rule_id}|${a.records[0]}` < `${b.rule_id}|${b.records[0]}` ? -1 : 1));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value as Json)
        .sort()
        .map((k) => [k, sortKeys((value as Json)[k])]),
    );
  return value;
}
