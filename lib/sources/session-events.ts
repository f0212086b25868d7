/**
 * The contract between the sources and the reconstruction: what a source tells the rest of the
 * tool about itself. Each source (`lib/sources/<name>.ts`) maps its raw records to normalised
 * session events (DESIGN.md, decision 3) and declares its traits here.
 */

export interface SourceTraits {
  /** The source logs a privilege assignment at logon (Windows 4672). */
  readonly privilegeEvents: boolean;
  /** The source logs logoffs (Windows 4634/4647); else sessions end by the source's end hint. */
  readonly logoffEvents: boolean;
  /**
   * Prefixes of session ids the source gives activity that belongs to no login session (auditd's
   * unset `ses`, a sudo line no open session explains): their orphan groups say so.
   */
  readonly orphanMarkers?: readonly string[];
}
