/**
 * A seeded OCSF 1.1.0 sample (JSON lines, Security Lake's `eventDay=YYYYMMDD` folders) with a
 * ground truth: endpoint logon sessions (Authentication 3002 logon and logoff, Process Activity 1007
 * under the session) and cloud API sessions (API Activity 6003 signed by a temporary key, some with
 * privileged IAM writes). Deterministic: the same options write the same bytes.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deriveSeed, Rng } from './prng.ts';

export interface OcsfSampleOptions {
  readonly seed: number;
  readonly days: number;
  /** First day, `YYYY-MM-DD` (UTC). */
  readonly from: string;
  readonly outDir: string;
}

/** One session a correct reader must find. */
export interface OcsfGtSession {
  readonly host: string;
  readonly session_uid: string;
  readonly user_uid: string;
  readonly start: string;
  readonly end: string | null;
  /** Built-in administrator (RID 500) or a privileged IAM write in the session. */
  readonly privileged: boolean;
  /** `metadata.uid` of every activity record of the session, sorted. */
  readonly activity: readonly string[];
}

export interface OcsfGroundTruth {
  readonly seed: number;
  readonly window: { readonly from: string; readonly to: string };
  readonly sessions: readonly OcsfGtSession[];
  /** Records of another class that a reader must skip. */
  readonly skipped: number;
}

export interface OcsfSampleResult {
  readonly files: readonly string[];
  readonly records: number;
  readonly groundTruthPath: string;
  readonly window: { readonly from: string; readonly to: string };
}

const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
const DOMAIN_SID = 'S-1-5-21-2721478810-3917326424-1112223334';
const HOSTS = ['web01.corp.example', 'db01.corp.example', 'app01.corp.example'];
const PEOPLE = [
  { name: 'Administrator', rid: 500 },
  { name: 'maria', rid: 1107 },
  { name: 'Jürgen', rid: 1108 },
];
const MINUTE = 60_000;

/** Writes the sample and its ground truth (`<outDir>/ocsf-ground-truth.json`). */
export async function generateOcsfSample(options: OcsfSampleOptions): Promise<OcsfSampleResult> {
  const start = Date.parse(`${options.from}T00:00:00Z`);
  if (Number.isNaN(start) || !/^\d{4}-\d{2}-\d{2}$/.test(options.from)) {
    throw new RangeError(`from must be YYYY-MM-DD, received ${options.from}`);
  }
  if (!Number.isInteger(options.days) || options.days < 1 || options.days > 366) {
    throw new RangeError(`days must be 1 to 366, received ${options.days}`);
  }
  const rng = new Rng(deriveSeed('ocsf-sample', options.seed, options.days, options.from));
  const byDay = new Map<string, Record<string, unknown>[]>();
  const sessions: OcsfGtSession[] = [];
  let uid = 0;
  let skipped = 0;
  const emit = (time: number, record: Record<string, unknown>): string => {
    uid += 1;
    const id = `ocsf-${options.seed}-${String(uid).padStart(6, '0')}`;
    const day = new Date(time).toISOString().slice(0, 10).replaceAll('-', '');
    const list = byDay.get(day) ?? [];
    list.push({ ...record, time, metadata: { version: '1.1.0', uid: id, product: { name: 'sample' } } });
    byDay.set(day, list);
    return id;
  };

  for (let d = 0; d < options.days; d += 1) {
    const dayStart = start + d * 86_400_000;
    // Endpoint sessions: logon, processes, logoff.
    for (const host of HOSTS) {
      const person = rng.pick(PEOPLE);
      const logon = dayStart + rng.int(8 * 60, 16 * 60) * MINUTE;
      const session = `${host.split('.')[0]}-${d}-${rng.int(0x10000, 0xfffff).toString(16)}`;
      const user = { uid: `${DOMAIN_SID}-${person.rid}`, name: person.name, domain: 'CORP' };
      const device = { hostname: host };
      emit(logon, {
        class_uid: 3002,
        activity_id: 1,
        type_uid: '300201',
        status_id: 1,
        logon_type_id: 10,
        user,
        session: { uid: session },
        device,
        src_endpoint: { ip: `10.1.0.${rng.int(2, 250)}` },
      });
      const activity: string[] = [];
      const n = rng.int(2, 5);
      for (let i = 1; i <= n; i += 1) {
        activity.push(
          emit(logon + i * MINUTE, {
            class_uid: 1007,
            activity_id: 1,
            type_uid: '100701',
            actor: { user, session: { uid: session } },
            process: {
              name: rng.pick(['cmd.exe', 'powershell.exe', 'whoami.exe', 'net.exe']),
              cmd_line: `step ${i}`,
            },
            device,
          }),
        );
      }
      const logoff = logon + (n + 2) * MINUTE;
      emit(logoff, {
        class_uid: 3002,
        activity_id: 2,
        type_uid: '300202',
        status_id: 1,
        user,
        session: { uid: session },
        device,
      });
      sessions.push({
        host: host.toUpperCase(),
        session_uid: session,
        user_uid: user.uid,
        start: iso(logon),
        end: iso(logoff),
        privileged: person.rid === 500,
        activity: [...activity].sort(),
      });
      // A record of another class, to be skipped and counted.
      emit(logon + MINUTE / 2, { class_uid: 4001, activity_id: 6, type_uid: '400106', device });
      skipped += 1;
    }
    // A cloud API session: a role session whose temporary key signs the calls.
    const at = dayStart + rng.int(9 * 60, 17 * 60) * MINUTE;
    const key = `ASIA${rng.int(0x1000000, 0xfffffff).toString(16).toUpperCase()}SAMPLE${d}`;
    const arn = `arn:aws:sts::${ACCOUNT}:assumed-role/ops-role/maria`;
    const cloud = { account: { uid: ACCOUNT }, region: REGION };
    const expires = at + 60 * MINUTE;
    emit(at, {
      class_uid: 3002,
      activity_id: 1,
      type_uid: '300201',
      status_id: 1,
      user: { uid: arn, name: 'ops-role/maria' },
      session: { uid: key, expiration_time: expires },
      cloud,
      api: { operation: 'AssumeRole', service: { name: 'sts.amazonaws.com' } },
    });
    const writes = rng.chance(0.5);
    const ops = writes ? ['ListUsers', 'CreateUser', 'AttachUserPolicy'] : ['ListUsers', 'GetUser'];
    const activity = ops.map((op, i) =>
      emit(at + (i + 1) * MINUTE, {
        class_uid: 6003,
        activity_id: 1,
        type_uid: '600301',
        actor: { user: { uid: arn, name: 'ops-role/maria', credential_uid: key } },
        api: { operation: op, service: { name: 'iam.amazonaws.com' } },
        cloud,
        src_endpoint: { ip: '198.51.100.7' },
      }),
    );
    sessions.push({
      host: ACCOUNT,
      session_uid: key,
      user_uid: arn,
      start: iso(at),
      end: iso(expires),
      privileged: writes,
      activity: [...activity].sort(),
    });
  }

  const files: string[] = [];
  let records = 0;
  for (const [day, list] of [...byDay].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const dir = join(options.outDir, 'ocsf', `region=${REGION}`, `accountId=${ACCOUNT}`, `eventDay=${day}`);
    await mkdir(dir, { recursive: true });
    const file = join(dir, 'part-0000.json');
    await writeFile(
      file,
      `${rng
        .shuffle(list)
        .map((r) => JSON.stringify(r))
        .join('\n')}\n`,
    );
    files.push(file);
    records += list.length;
  }
  const window = { from: iso(start), to: iso(start + options.days * 86_400_000) };
  const truth: OcsfGroundTruth = { seed: options.seed, window, sessions, skipped };
  const groundTruthPath = join(options.outDir, 'ocsf-ground-truth.json');
  await writeFile(groundTruthPath, `${JSON.stringify(truth, null, 2)}\n`);
  return { files, records, groundTruthPath, window };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
