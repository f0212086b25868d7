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
