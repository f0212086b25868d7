/**
 * Which sources a local logs path holds, for requests that name none: the `<source>/` folders of a
 * layout like the S3 bucket. A plain folder or a single file carries no such hint and is read as
 * the Windows source; other sources are named with `--source`.
 */
import { realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SessiontrailError } from '../errors.ts';
import { WINDOWS_SOURCE } from '../sources/windows.ts';

/** The known sources with a folder under `logs`, sorted; `[windows]` when there is none. */
export async function detectLocalSources(logs: string, known: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const source of known) {
    try {
      if ((await stat(join(logs, source))).isDirectory()) found.push(source);
    } catch {
      // not there: not a source of this layout
    }
  }
  return found.length > 0 ? found.sort() : [WINDOWS_SOURCE];
}

/** Pseudo file systems: their files are no logs, and a folder there is no place for packs. */
const PSEUDO_ROOTS = ['/proc', '/sys', '/dev'];
const onPseudoFs = (real: string) => PSEUDO_ROOTS.some((r) => real === r || real.startsWith(`${r}/`));

/**
 * Checks a local export's paths before anything is read or written, so that a wrong path is a clear
 * usage error (exit 2) rather than a hang or a stack trace: `logs` must be a folder or a regular
 * file (not a FIFO, which would block, nor a device such as `/dev/null`); `out`, when it exists,
 * must be a folder, and neither may lie on a pseudo file system (`/proc/self` loops through the
 * whole tree when listed).
 * @throws SessiontrailError `LOGS_NOT_FOUND` for `logs`, `BAD_REQUEST` for `out`.
 */
export async function checkLocalPaths(logs: string | undefined, out: string): Promise<void> {
  if (logs !== undefined) await checkLogsPath(logs);
  let outInfo: Awaited<ReturnType<typeof stat>> | null = null;
  try {
    outInfo = await stat(out);
  } catch {
    // not there yet: the store creates it
  }
  if (outInfo !== null && !outInfo.isDirectory())
    throw new SessiontrailError(
      'BAD_REQUEST',
      `--out ${out} is not a folder: give the folder packs are written to`,
    );
  if (outInfo !== null && onPseudoFs(await realpath(out)))
    throw new SessiontrailError(
      'BAD_REQUEST',
      `--out ${out} is on a pseudo file system (/proc, /sys, /dev): give a folder on disk`,
    );
}

/**
 * Checks the logs path: a folder or a regular file that exists, not a FIFO (it would block, and
 * cannot be read twice), not a device such as `/dev/null`, not on a pseudo file system. The one
 * check of `--logs`, before an export ({@link checkLocalPaths}) and when its files are listed
 * (lib/locate/local-logs.ts).
 * @returns whether `logs` is a single file (else a folder).
 * @throws SessiontrailError `LOGS_NOT_FOUND`.
 */
export async function checkLogsPath(logs: string): Promise<{ readonly isFile: boolean }> {
  let info: Awaited<ReturnType<typeof stat>>;
  let real: string;
  try {
    info = await stat(logs);
    real = await realpath(logs);
  } catch (cause) {
    throw new SessiontrailError(
      'LOGS_NOT_FOUND',
      `cannot read the logs at ${logs}: give --logs a folder or file that exists`,
      { cause },
    );
  }
  if ((!info.isFile() && !info.isDirectory()) || onPseudoFs(real))
    throw new SessiontrailError(
      'LOGS_NOT_FOUND',
      `--logs ${logs} is neither a folder nor a regular file of logs (a pipe, a device or a /proc file): give a folder or a file`,
    );
  return { isFile: info.isFile() };
}
