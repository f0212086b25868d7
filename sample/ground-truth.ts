/**
 * The ground truth written next to a generated Windows sample (`ground-truth.json`): what a correct
 * reconstruction must find. Written with keys sorted and 2-space indent, arrays in the order given here.
 *
 * Conventions:
 * - `host` is the upper-cased FQDN as written in `Hostname` / `winlog.computer_name` (`WS01.CORP.EXAMPLE`).
 * - Logon ids are canonical: lower-case hex, no leading zeros, `0x` prefix (`0x3a1f2c`), whatever form
 *   the record used (`0x3A1F2C`, `0x00000000003a1f2c`).
 * - Times are ISO 8601 UTC with milliseconds: the true event time. NXLog hosts log whole seconds, so
 *   their `EventTime` (host-local, see {@link GtHost.utc_offset_minutes}) gives it exactly; their
 *   `@timestamp` is the collector's time, 0–2.5 s later.
 * - `(host, record)` identifies a Security-channel record; a duplicate line repeats its record number.
 */

/** Why a session ended, as the data shows it (same meanings as the evidence model's `EndReason`). */
export type GtEndReason =
  | 'logoff'
  | 'user_logoff'
  | 'shutdown'
  | 'reboot'
  /** Open when the host's data stops (see {@link GtHost.data_stops_at}): ends at its last Security record. */
  | 'data_ends'
  | 'open_at_window_end';

/**
 * The suppression rule a correct configuration applies to a session; the first that matches, in this
 * order: `system-accounts` (SID S-1-5-18/19/20), `window-manager` (S-1-5-90-* / S-1-5-96-*),
 * `machine-accounts` (name ends in `$`), `svc-backup` (`CORP\svc_backup`).
 */
export type GtSuppression = 'system-accounts' | 'machine-accounts' | 'window-manager' | 'svc-backup';

/** One activity event attributed to a session. */
export interface GtActivity {
  readonly record: number;
  readonly event_code: string;
  /** The half that ran it (4688: `TargetLogonId` when non-zero, else `SubjectLogonId`; others `SubjectLogonId`). */
  readonly logon_id: string;
}

/** One logon session: a lone 4624, or both halves of a UAC split-token pair merged. */
export interface GtSession {
  readonly host: string;
  /** The elevated half for a UAC pair, else the only logon id. */
  readonly logon_id: string;
  /** The filtered half of a UAC pair, else null. */
  readonly linked_logon_id: string | null;
  /** The 4608 that began this boot epoch, or null when the host was already up at the window start. */
  readonly boot_time: string | null;
  readonly user_sid: string;
  readonly user_name: string;
  /** `TargetDomainName` as written in the 4624 (NTLM/interactive `CORP`, Kerberos `CORP.EXAMPLE`). */
  readonly user_domain: string;
  readonly logon_type: number;
  /** The first 4624 of the session. */
  readonly start: string;
  /** Earliest 4647/4634 of either half; else the shutdown (4609) or the next boot (4608); else null. */
  readonly end: string | null;
  readonly end_reason: GtEndReason;
  /** A 4672 with an admin-equivalent privilege or `ElevatedToken` %%1842, for a non-system account. */
  readonly privileged: boolean;
  /** `ElevatedToken` %%1842 on either half. */
  readonly elevated: boolean;
  /**
   * How a correct reader ties the halves of a UAC pair: `linked_logon_id` where the 4624s name each
   * other, `inferred` where they cannot (a legacy host's 4624 v0); null for a single logon.
   */
  readonly pairing: 'linked_logon_id' | 'inferred' | null;
  readonly suppressed_by: GtSuppression | null;
  /** Sorted by record. Empty for SYSTEM / LOCAL SERVICE / NETWORK SERVICE: see `system_activity_records`. */
  readonly activity: readonly GtActivity[];
}

/** Activity under a logon id whose 4624 is not in the data (the session began before the window). */
export interface GtOrphan {
  readonly host: string;
  readonly logon_id: string;
  readonly user_name: string;
  /** True time of the logoff (4647/4634) of that session when it is in the data, else null. */
  readonly ended: string | null;
  /** Sorted by record; includes the logoffs. */
  readonly activity: readonly { readonly record: number; readonly event_code: string }[];
}

/** A record that marks a host event: log cleared (1102), boot (4608), shutdown (4609). */
export interface GtHostEvent {
  readonly host: string;
  readonly time: string;
  readonly record: number;
}

/** How a host's records were written. */
export interface GtHost {
  readonly host: string;
  readonly layout: 'nxlog' | 'winlogbeat';
  /** Offset of the host's local time from UTC, used for NXLog `EventTime` (no DST). */
  readonly utc_offset_minutes: number;
  /** The `Channel` / `winlog.channel` value its Security records carry (`security` for some NXLog hosts). */
  readonly channel: string;
  /** False for the host with logoff auditing off: no 4634/4647 at all from it. */
  readonly logoff_audited: boolean;
  /** True for the host that writes 4624 version 0 (no TargetLinkedLogonId, no ElevatedToken). */
  readonly legacy_logon_events: boolean;
  /** When the host's log shipping stops (nothing later is in the data), or null. */
  readonly data_stops_at: string | null;
}

/** The whole ground-truth document. */
export interface GroundTruth {
  readonly seed: number;
  /** `[from, to)`: UTC midnights. */
  readonly window: { readonly from: string; readonly to: string };
  /** Sorted, upper-cased FQDNs. */
  readonly hosts: readonly string[];
  /** Sorted by host. */
  readonly host_details: readonly GtHost[];
  /** Every 4624 in the data, UAC pairs merged. Sorted by host, start, logon id. */
  readonly sessions: readonly GtSession[];
  /** Sorted by host, logon id. */
  readonly orphans: readonly GtOrphan[];
  /** Lines a reader must reject: `malformed_json` counts truncated and non-JSON lines. */
  readonly bad_lines: {
    readonly malformed_json: number;
    readonly missing_event_id: number;
    readonly missing_time: number;
  };
  /** Extra copies of in-scope Security records (exact same line, same or another file of the partition). */
  readonly duplicates: number;
  /** Distinct records a reader must skip: other channels (Sysmon), other Security event ids (5156, 4703). */
  readonly skipped: { readonly other_channel: number; readonly other_event_id: number };
  /** Activity events (4688, 4663, …) attributed to 0x3e7/0x3e5/0x3e4 and to no human session. */
  readonly system_activity_records: number;
  /** Sorted by host, time. */
  readonly log_clears: readonly GtHostEvent[];
  /** Accounts created by SYSTEM (4720 with subject S-1-5-18), sorted by host, time: findings the built-in suppression must not hide. */
  readonly system_account_changes: readonly GtHostEvent[];
  /** Failed logons (4625) with the account tried and the source address; sorted by host, time. */
  readonly failed_logons: readonly (GtHostEvent & { readonly account: string; readonly src_ip: string })[];
  /**
   * Password sprays: per host and source address, the failed logons of one burst (records sorted),
   * trying at least the configured `spray_accounts` accounts.
   */
  readonly password_sprays: readonly {
    readonly host: string;
    readonly src_ip: string;
    readonly accounts: number;
    readonly records: readonly number[];
  }[];
  /** 4608 records; sorted by host, time. */
  readonly boots: readonly GtHostEvent[];
  /** 4609 records (each followed by a 1100); sorted by host, time. */
  readonly shutdowns: readonly GtHostEvent[];
}
