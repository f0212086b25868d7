/**
 * Log folders for tests: a new folder under the system's temp folder with the files a test names,
 * by path relative to the folder (`windows/dt=2024-03-05/a.json`), on the real file system.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Files by path relative to the folder. Contents are written byte for byte as given, never
 * compressed on the way: the tests make their own gzip (whole, cut, several members, trailing bytes)
 * and some write plain text under a `.gz` name on purpose.
 */
export type LogFiles = Readonly<Record<string, string | Uint8Array>>;

/** A temp folder of log files. */
export interface LogFolder {
  /** The folder's absolute path: what `--logs` (or a locator) is given. */
  readonly root: string;
  /** Removes the folder and all in it. */
  remove(): Promise<void>;
}

/** The same files under `folder` (a relative path such as `windows/dt=2024-03-05`). */
export function inFolder(folder: string, files: LogFiles): LogFiles {
  return Object.fromEntries(Object.entries(files).map(([name, body]) => [join(folder, name), body]));
}

/** Writes the files under `root`, making the folders they need. */
export async function writeLogFiles(root: string, files: LogFiles): Promise<void> {
  for (const [name, body] of Object.entries(files)) {
    const path = join(root, name);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, body);
  }
}

/** A new temp folder (named `<prefix>XXXXXX`) holding the files. */
export async function logFolder(files: LogFiles, prefix = 'st-logs-'): Promise<LogFolder> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  await writeLogFiles(root, files);
  return { root, remove: () => rm(root, { recursive: true, force: true }) };
}

/**
 * A Windows Security 4634 ("an account was logged off") line as the windows source reads it
 * (flattened JSON, one event a line) on host WS01 with record number `n`, at a second of
 * 2024-03-05 10:00; `fields` replace or follow the usual ones.
 */
export function windows4634(n: number, fields: Readonly<Record<string, unknown>> = {}): string {
  return JSON.stringify({
    '@timestamp': `2024-03-05T10:00:${String(n % 60).padStart(2, '0')}.000Z`,
    Hostname: 'WS01',
    Channel: 'Security',
    EventID: 4634,
    RecordNumber: n,
    ...fields,
  });
}

/** The logon id a test gives the session of record `n` (`TargetLogonId` of 4624/4634 is hex). */
export const logonIdOf = (n: number): string => `0x${n.toString(16)}`;

/**
 * A CloudTrail record of IAM user `u<n>` in the given account, at minute `n` of 2024-03-04 10:00
 * (one digit: n from 0 to 9), as `{"Records":[…]}` documents hold it.
 */
export function cloudTrailRecord(n: number, eventName: string, account: string) {
  return {
    eventVersion: '1.08',
    eventID: `e-${n}`,
    eventTime: `2024-03-04T10:0${n}:00Z`,
    eventSource: 'iam.amazonaws.com',
    eventName,
    awsRegion: 'us-east-1',
    recipientAccountId: account,
    userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::${account}:user/u${n}`, accountId: account },
  };
}
