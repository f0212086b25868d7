import { SessiontrailError } from '../errors.ts';

/**
 * Splits an evidence-store path into its segments, refusing anything that could leave the store's
 * root or read differently on another store: the same rules for a folder and for S3 keys, so that
 * a pack path valid in one store is valid in the other.
 *
 * @throws {SessiontrailError} `BAD_REQUEST` for a path that is empty or absolute, holds a backslash
 *   or NUL, or has an empty, `.` or `..` segment.
 */
export function storePathSegments(path: string): string[] {
  const bad = (why: string): SessiontrailError =>
    new SessiontrailError(
      'BAD_REQUEST',
      `store path ${JSON.stringify(path)}: expected a relative path, ${why}`,
    );
  if (typeof path !== 'string' || path === '') throw bad('received an empty path');
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) throw bad('received an absolute path');
  // Backslashes are separators on Windows and ordinary characters on S3: refuse both readings.
  if (path.includes('\\') || path.includes('\0')) throw bad('received a backslash or NUL');
  const segments = path.split('/');
  for (const segment of segments) {
    if (segment === '') throw bad('received an empty segment');
    if (segment === '.' || segment === '..') throw bad(`received a "${segment}" segment`);
  }
  return segments;
}
