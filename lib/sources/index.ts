/**
 * The registry of log sources: one line per source. A source knows how to normalise its raw lines
 * into session events (one query) and which fields each of its event codes defines.
 */
import type { Config } from '../config/config.ts';
import type { Dialect, RawInput } from '../query/dialects/dialect.ts';
import type { SourceTraits } from '../query/session-events.ts';
import type { SqlQuery } from '../query/sql.ts';
import {
  buildCloudTrailNormaliseQuery,
  CLOUDTRAIL_LOCAL_FILES,
  CLOUDTRAIL_SOURCE,
  definedFields as cloudTrailFields,
} from './cloudtrail.ts';
import { CLOUDTRAIL_RAW_TABLE } from './cloudtrail-raw-table.ts';
import {
  buildLinuxAuditdNormaliseQuery,
  LINUX_AUDITD_SOURCE,
  definedFields as linuxAuditdFields,
} from './linux-auditd.ts';
import {
  buildLinuxAuthNormaliseQuery,
  LINUX_AUTH_DERIVED_ROWS,
  LINUX_AUTH_SOURCE,
  definedFields as linuxAuthFields,
} from './linux-auth.ts';
import {
  buildOcsfNormaliseQuery,
  OCSF_LOCAL_FILES,
  OCSF_SOURCE,
  definedFields as ocsfFields,
} from './ocsf.ts';
import { OCSF_PARQUET_TABLE } from './ocsf-raw-table.ts';
import { type LocalFiles, type RawTableSpec, rawTableOf } from './raw-table.ts';
import {
  buildWindowsNormaliseQuery,
  UTC_CHECK_DETAIL,
  WINDOWS_SOURCE,
  definedFields as windowsFields,
} from './windows.ts';

export interface SourceDefinition {
  readonly name: string;
  /** The classified-lines query (see `buildWindowsNormaliseQuery`). */
  buildNormaliseQuery(dialect: Dialect, input: RawInput, config?: Config): SqlQuery;
  definedFields(eventCode: string): readonly string[];
  /**
   * The raw-line table (Glue, Hive) over the source's files: also the layout local discovery
   * prunes by day (lib/locate/local-logs.ts).
   */
  readonly rawTable: RawTableSpec;
  /** How local discovery reads the source's files; unset: line logs (see {@link LocalFiles}). */
  readonly localFiles?: LocalFiles;
  /**
   * The source can read an existing Amazon Security Lake table instead of its raw table (the CDK
   * app's `securityLakeTable` setting): Security Lake stores OCSF. At most one source says so.
   */
  readonly readsSecurityLake?: boolean;
  readonly traits: SourceTraits;
  /** SQL predicate over the source's classified rows for rows derived from another record (not records read). */
  readonly derivedRows?: string;
  /**
   * Some records carry both their own time and a collector's receipt time: the pack measures the
   * collector's lag from the `collector_lag_ms` detail (`buildCollectorLagQuery`).
   */
  readonly measuresCollectorLag?: boolean;
  /**
   * The `details` key under which skipped records carry their own UTC time minus the time they are
   * read at (`buildUtcTimeCheckQuery`): the pack reports it per host, and says when the source's
   * time is not the UTC it claims.
   */
  readonly utcCheckDetail?: string;
  /**
   * Each row of the classified-lines query depends on its own file's lines alone (no window or join
   * across files), so the engine may read the files in parts, one statement each, into the same
   * table, with the same rows as one statement (lib/export/input-parts.ts).
   */
  readonly normalisesEachFileAlone?: boolean;
  /**
   * Each line of the source's files is one JSON record, checked line by line (`Dialect.isJson`): the
   * local intake marks a line holding JSON's lenient extras (`IntakeOptions.jsonLines`), and the
   * input says so (`RawInput.lenientJsonMarked`).
   */
  readonly jsonLines?: boolean;
}

export const SOURCES: Readonly<Record<string, SourceDefinition>> = {
  [WINDOWS_SOURCE]: {
    name: WINDOWS_SOURCE,
    buildNormaliseQuery: buildWindowsNormaliseQuery,
    definedFields: windowsFields,
    rawTable: rawTableOf(WINDOWS_SOURCE),
    traits: { privilegeEvents: true, logoffEvents: true, splitTokenPairs: true },
    // NXLog flat records: zone-less EventTime beside the collector's @timestamp
    measuresCollectorLag: true,
    // Sysmon's own UtcTime beside TimeCreated (the newer flat export writes host-local time with a Z)
    utcCheckDetail: UTC_CHECK_DETAIL,
    // Each line is one record; the only window (numbering a file's identical lines that have no
    // record number) is partitioned by file.
    normalisesEachFileAlone: true,
    jsonLines: true,
  },
  [LINUX_AUDITD_SOURCE]: {
    name: LINUX_AUDITD_SOURCE,
    buildNormaliseQuery: buildLinuxAuditdNormaliseQuery,
    definedFields: linuxAuditdFields,
    rawTable: rawTableOf(LINUX_AUDITD_SOURCE),
    traits: { privilegeEvents: false, logoffEvents: true, orphanMarkers: ['unset'] },
  },
  [LINUX_AUTH_SOURCE]: {
    name: LINUX_AUTH_SOURCE,
    // the zone of syslog stamps comes from the configuration once the caller passes it
    buildNormaliseQuery: (d: Dialect, input: RawInput, config?: Config) =>
      buildLinuxAuthNormaliseQuery(d, input, { syslogTimezone: config?.linux?.syslog_timezone }),
    definedFields: linuxAuthFields,
    rawTable: rawTableOf(LINUX_AUTH_SOURCE),
    // copies 2…N of rsyslog's "message repeated N times" line: the line is one record read
    derivedRows: LINUX_AUTH_DERIVED_ROWS,
    traits: { privilegeEvents: false, logoffEvents: true, orphanMarkers: ['unattributed', 'tty:'] },
  },
  [CLOUDTRAIL_SOURCE]: {
    name: CLOUDTRAIL_SOURCE,
    buildNormaliseQuery: (d: Dialect, input: RawInput) => buildCloudTrailNormaliseQuery(d, input),
    definedFields: cloudTrailFields,
    rawTable: CLOUDTRAIL_RAW_TABLE,
    localFiles: CLOUDTRAIL_LOCAL_FILES,
    // The caller's side of a credential-issuing call and the inferred logon of a long-term key's burst.
    derivedRows: `record_uid LIKE '%#caller' OR record_uid LIKE '%#inferred-logon'`,
    traits: { privilegeEvents: false, logoffEvents: false, credentialChains: true },
  },
  [OCSF_SOURCE]: {
    name: OCSF_SOURCE,
    buildNormaliseQuery: buildOcsfNormaliseQuery,
    definedFields: ocsfFields,
    rawTable: OCSF_PARQUET_TABLE,
    localFiles: OCSF_LOCAL_FILES,
    readsSecurityLake: true,
    traits: { privilegeEvents: false, logoffEvents: false },
  },
};

export const SOURCE_NAMES: readonly string[] = Object.keys(SOURCES).sort();
