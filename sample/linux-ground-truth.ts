/**
 * The ground truth written next to a generated Linux sample (`linux-ground-truth.json`): what a
 * correct reconstruction of the auditd and auth.log files must find.
 *
 * Conventions:
 * - `host` is upper-cased, as the sources write it (`LNX01`).
 * - auditd records are named as the source's `raw_ref` ends: `audit(<epoch>.<ms>:<serial>)/<TYPE>`.
 * - auth.log lines are named by the first 16 hex of the line's sha256 (the `raw_ref` suffix).
 * - Times are ISO 8601 UTC with milliseconds.
 */

/** One login session as both logs show it. */
export interface LinuxGtSession {
  readonly host: string;
  /** Which boot of the host the session belongs to: 0 = up before the first boot record. */
  readonly boot_ordinal: number;
  /** auditd `ses`. */
  readonly ses: string;
  /** auth.log session id (`sshd:<pid>`, `cron:<pid>`). */
  readonly auth_session: string;
  readonly user_uid: string;
  readonly user_name: string;
  readonly kind: 'ssh' | 'cron' | 'root_ssh';
  readonly start: string;
  readonly end: string | null;
  readonly end_reason: 'logoff' | 'shutdown' | 'open_at_window_end';
  /** sudo to root, or a root login. */
  readonly privileged: boolean;
  /** The TTY the session's USER_LOGIN names (null for cron). */
  readonly tty: string | null;
  readonly sudo_commands: number;
  /** auditd activity records attributed to the session, sorted. */
  readonly auditd_activity: readonly string[];
  /** auth.log activity lines attributed to the session, sorted. */
  readonly auth_activity: readonly string[];
}

/** Activity without a login session (auid unset), or lines no single session explains. */
export interface LinuxGtOrphans {
  /**
   * auditd records without a login session (auid/ses unset), per host and the marker session the
   * source gives them (`unset`, or `unset:<program>[<pid>]` for a PAM process such as sshd before
   * login or a su started by a service, with that su's shell and commands); sorted.
   */
  readonly auditd: readonly {
    readonly host: string;
    readonly session: string;
    readonly records: readonly string[];
  }[];
  /** auth.log lines under a marker session, per host and marker; sorted. */
  readonly auth: readonly {
    readonly host: string;
    readonly session: string;
    readonly lines: readonly string[];
  }[];
}

export interface LinuxGroundTruth {
  readonly seed: number;
  readonly window: { readonly from: string; readonly to: string };
  /** Sorted, upper-cased. */
  readonly hosts: readonly string[];
  /** Sorted by host, start. */
  readonly sessions: readonly LinuxGtSession[];
  readonly orphans: LinuxGtOrphans;
  /** Boot records (SYSTEM_BOOT and DAEMON_START) per host, by time. */
  readonly boots: readonly { readonly host: string; readonly time: string }[];
  /** Lines a reader must reject or skip, by reason, per source. */
  readonly auditd_counts: {
    readonly events: number;
    readonly rejected: Readonly<Record<string, number>>;
    readonly skipped: Readonly<Record<string, number>>;
    readonly duplicates: number;
  };
  readonly auth_counts: {
    readonly events: number;
    readonly rejected: Readonly<Record<string, number>>;
    readonly skipped: Readonly<Record<string, number>>;
  };
}
