/**
 * Impossible times and unusable paths are usage errors (exit 2) with a message and no stack trace,
 * never a pack of another window, an engine failure or a hang (issue 10). A real process.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = new URL('../../bin/sessiontrail.js', import.meta.url).pathname;
const cwd = mkdtempSync(join(tmpdir(), 'st-cli-strict-'));
const logs = mkdtempSync(join(tmpdir(), 'st-cli-strict-logs-'));
const aFile = join(cwd, 'a-file');
writeFileSync(aFile, 'x');
const fifo = join(cwd, 'fifo');
execFileSync('mkfifo', [fifo]);

function run(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stderr: r.stderr };
}
const exportArgs = (from: string, to: string, logsPath = logs, out = join(cwd, 'out')) => [
  'export',
  '--kind',
  'review',
  '--from',
  from,
  '--to',
  to,
  '--logs',
  logsPath,
  '--out',
  out,
  '--key',
  join(cwd, 'no-key.pem'),
];

describe('sessiontrail export refuses impossible times and unusable paths with exit 2', () => {
  it.each([
    [
      exportArgs('2024-02-30', '2024-03-02'),
      /--from: 2024-02-30 is not a real date: it has day 30: 2024-02 has 29 days/,
    ],
    [exportArgs('2024-04-01', '2024-04-31'), /--to: 2024-04-31 is not a real date: it has day 31/],
    [exportArgs('2024-04-01T24:00:00Z', '2024-04-03'), /hours run 00-23/],
    [exportArgs('0000-01-01', '0000-01-02'), /year 0000/],
    [exportArgs('2024-04-01', '2024-04-02', fifo), /--logs .* neither a folder nor a regular file/],
    [
      exportArgs('2024-04-01', '2024-04-02', '/dev/null'),
      /--logs \/dev\/null is neither a folder nor a regular file/,
    ],
    [exportArgs('2024-04-01', '2024-04-02', logs, aFile), /--out .* is not a folder/],
    [
      exportArgs('2024-04-01', '2024-04-02', logs, '/proc/self'),
      /--out \/proc\/self is on a pseudo file system/,
    ],
  ])('%j', (args, message) => {
    const r = run(args as string[]);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});
