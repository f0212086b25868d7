/**
 * Which sources a local logs path holds, for requests that name none: the `<source>/` folders of a
 * layout like the S3 bucket. A plain folder or a single file carries no such hint and is read as
 * the Windows source; other sources are named with `--source`.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
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
