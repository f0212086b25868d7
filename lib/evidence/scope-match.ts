/**
 * A scope that matches nothing is refused, not sealed as an empty pack: an empty incident pack for a
 * misspelt user reads as "this user did nothing". The refusal names the nearest accounts or hosts
 * the data does hold, so the requester can correct the spelling (or ask for the empty pack on
 * purpose with `allowEmpty`).
 */
import { SessiontrailError } from '../errors.ts';
import { foldCase } from '../query/fold-case.ts';
import type { Row } from '../query/query-engine.ts';

/** A requested user or host and how many records of the data read it matched. */
export interface ScopeMatch {
  readonly kind: 'user' | 'host';
  readonly value: string;
  readonly records: number;
}

/** How many nearest matches a refusal names. */
export const NEAREST_MATCHES = 3;

/**
 * The forms a reader may use for the accounts and hosts in `candidates` (rows of the
 * scope-candidates query): name, `DOMAIN\name`, SID / uid / ARN, IAM user name; host and its first label.
 */
export function scopeForms(candidates: readonly Row[]): { users: string[]; hosts: string[] } {
  const users = new Set<string>();
  const hosts = new Set<string>();
  const text = (v: Row[string] | undefined) => (v === null || v === undefined || v === '' ? null : String(v));
  for (const r of candidates) {
    const host = text(r.host);
    if (host !== null) {
      hosts.add(host);
      hosts.add(host.split('.')[0] as string);
    }
    const name = text(r.user_name);
    const domain = text(r.user_domain);
    const uid = text(r.user_uid);
    if (name !== null) {
      users.add(name);
      if (domain !== null) users.add(`${domain}\\${name}`);
      if (name.startsWith('user/')) users.add(name.slice('user/'.length));
    }
    if (uid !== null) users.add(uid);
  }
  return { users: [...users].sort(), hosts: [...hosts].sort() };
}

/** The `n` forms nearest to `value` by edit distance, case-insensitively ({@link foldCase}); ties in code-point order. */
export function nearest(value: string, forms: readonly string[], n = NEAREST_MATCHES): string[] {
  const v = foldCase(value);
  return forms
    .map((f) => ({ f, d: editDistance(v, foldCase(f)) }))
    .sort((a, b) => a.d - b.d || (a.f < b.f ? -1 : a.f > b.f ? 1 : 0))
    .slice(0, n)
    .map((x) => x.f);
}

/**
 * Refuses a request whose users or hosts match nothing, unless `allowEmpty`.
 * @returns the values that matched nothing (for the pack's limitations when `allowEmpty`).
 * @throws SessiontrailError `BAD_SCOPE` naming each value and its nearest matches.
 */
export function checkScope(
  matches: readonly ScopeMatch[],
  forms: () => { users: readonly string[]; hosts: readonly string[] },
  allowEmpty: boolean,
): ScopeMatch[] {
  const empty = matches.filter((m) => m.records === 0);
  if (empty.length === 0 || allowEmpty) return empty;
  const known = forms();
  const parts = empty.map((m) => {
    const near = nearest(m.value, m.kind === 'user' ? known.users : known.hosts);
    return `${m.kind} ${JSON.stringify(m.value)} matches no record of the data read${
      near.length === 0 ? '' : `; nearest: ${near.map((x) => JSON.stringify(x)).join(', ')}`
    }`;
  });
  throw new SessiontrailError(
    'BAD_SCOPE',
    `${parts.join('; ')}. Correct the scope, or ask for an empty pack on purpose with --allow-empty`,
  );
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j] as number;
      prev[j] = Math.min(up + 1, (prev[j - 1] as number) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length] as number;
}
