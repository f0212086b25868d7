/**
 * Ties sessions from different sources to one person, as configured (`identities` in the
 * configuration): a Windows SID, an SSO role session name and a Linux login can be the same person
 * only because someone said so, so every tie records the criterion that made it.
 */
import { globToRegex, type IdentityMatch, type IdentitySpec } from '../config/config.ts';
import { foldCase } from '../query/fold-case.ts';

export interface SessionIdentity {
  readonly source: string;
  readonly user: {
    readonly uid: string | null;
    readonly name: string | null;
    readonly domain: string | null;
  };
  readonly details: readonly { readonly name: string; readonly value: string }[];
}

export interface PersonTie {
  readonly id: string;
  /** How the tie was made, e.g. `windows: sid S-1-5-21-…-1105 (configured)`. */
  readonly tie: string;
}

/** The first configured person whose accounts match the session, with the criterion that matched. */
export function tieToPerson(session: SessionIdentity, identities: readonly IdentitySpec[]): PersonTie | null {
  for (const person of identities) {
    for (const account of person.accounts) {
      const why = matchAccount(session, account);
      if (why !== null) return { id: person.person, tie: `${session.source}: ${why} (configured)` };
    }
  }
  return null;
}

/** Every key present must match; returns the matched values as text, or null. */
function matchAccount(s: SessionIdentity, m: IdentityMatch): string | null {
  const reasons: string[] = [];
  const uid = foldCase(s.user.uid ?? '');
  const name = foldCase(s.user.name ?? '');
  const qualified = s.user.domain ? foldCase(`${s.user.domain}\\${s.user.name ?? ''}`) : name;
  if (m.sources && !m.sources.includes(s.source)) return null;
  if (m.sids) {
    const hit = m.sids.find((x) => foldCase(x) === uid);
    if (hit === undefined) return null;
    reasons.push(`sid ${hit}`);
  }
  if (m.sid_patterns) {
    const hit = m.sid_patterns.find((g) => new RegExp(globToRegex(g)).test(uid.toLowerCase()));
    if (hit === undefined) return null;
    reasons.push(`sid pattern ${hit}`);
  }
  if (m.names) {
    const hit = m.names.find((x) => foldCase(x) === name || foldCase(x) === qualified);
    if (hit === undefined) return null;
    reasons.push(`name ${hit}`);
  }
  if (m.name_patterns) {
    const hit = m.name_patterns.find((g) => new RegExp(globToRegex(g)).test(name.toLowerCase()));
    if (hit === undefined) return null;
    reasons.push(`name pattern ${hit}`);
  }
  if (m.details) {
    for (const [key, values] of Object.entries(m.details)) {
      const have = s.details.find((d) => d.name === key)?.value;
      const hit = values.find((v) => v === have);
      if (hit === undefined) return null;
      reasons.push(`${key} ${hit}`);
    }
  }
  return reasons.length === 0 ? null : reasons.join(', ');
}
