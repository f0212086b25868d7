import { SessiontrailError } from '../errors.ts';

/** A query ready to run: text with positional `?` placeholders and their values, in order. */
export interface SqlQuery {
  /** Short stable name, used for the pack's `queries/NN-name.sql` file. */
  readonly name: string;
  readonly sql: string;
  readonly params: readonly SqlValue[];
  /**
   * The parameters as the pack records them: the same values, except where a value is specific to
   * the machine that ran the query (local file paths), which is recorded by its portable name.
   */
  readonly recordedParams?: readonly SqlValue[];
  /**
   * What the statement holds while it runs, for an engine that bounds memory per statement
   * (DuckDB: `memoryLimitFor`): set by the reader that reads raw input into it
   * ({@link ParamList.holds}); absent for a query over the working tables.
   */
  readonly memory?: StatementMemory;
}

/**
 * `normalise`: the statement reads raw input lines (normalised columns out, spillable);
 * `whole-document`: it parses JSON files as whole documents, each held whole while parsed.
 * Ordered: a statement that does both holds a whole document.
 */
export type StatementMemory = 'normalise' | 'whole-document';

export type SqlValue = string | number | bigint | boolean | null | readonly string[];

/**
 * Collects parameter values while a query's text is assembled, so that every value reaches the
 * engine as a bound parameter and never as SQL text. `add` returns a token; `finish` turns the
 * tokens into positional `?` in the order they appear in the final text, so fragments may be built
 * in any order and used more than once.
 */
export class ParamList {
  private readonly values: SqlValue[] = [];
  private readonly recorded: SqlValue[] = [];
  private memory: StatementMemory | undefined;

  /**
   * Records what the statement being assembled holds in memory ({@link SqlQuery.memory}), called by
   * the reader that writes its raw-input part: the larger need wins.
   */
  holds(memory: StatementMemory): void {
    if (this.memory !== 'whole-document') this.memory = memory;
  }

  /**
   * Adds a value and returns its placeholder token. `recordAs` is what the pack's copy of the query
   * shows instead of a machine-specific value (see {@link SqlQuery.recordedParams}).
   */
  add(value: SqlValue, recordAs: SqlValue = value): string {
    this.values.push(value);
    this.recorded.push(recordAs);
    return `\uE000P${this.values.length - 1}\uE001`;
  }

  /** Adds each value and returns `?, ?, ?` tokens (or `NULL` for an empty list, so `x IN (NULL)` matches nothing). */
  addAll(values: readonly string[]): string {
    if (values.length === 0) return 'NULL';
    return values.map((v) => this.add(v)).join(', ');
  }

  /** The finished query: tokens replaced by `?`, values in textual order. */
  finish(name: string, sql: string): SqlQuery {
    const params: SqlValue[] = [];
    const recordedParams: SqlValue[] = [];
    const text = sql.replace(/\uE000P(\d+)\uE001/g, (_m, i: string) => {
      params.push(this.values[Number(i)] as SqlValue);
      recordedParams.push(this.recorded[Number(i)] as SqlValue);
      return '?';
    });
    return this.memory === undefined
      ? { name, sql: text, params, recordedParams }
      : { name, sql: text, params, recordedParams, memory: this.memory };
  }
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Checks an identifier (table, schema or catalog name) before it is written into SQL text.
 * @throws SessiontrailError `BAD_IDENTIFIER` when it is not lower-case letters, digits and `_`.
 */
export function identifier(name: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new SessiontrailError(
      'BAD_IDENTIFIER',
      `expected an identifier of lower-case letters, digits and _ (at most 63), received ${JSON.stringify(name)}`,
    );
  }
  return name;
}

/**
 * Quotes a string as a plain SQL literal (quotes doubled); only for constants written in this code
 * base, which every engine (DuckDB included) must parse. Values go through {@link sqlLiteral}.
 */
export function literal(text: string): string {
  return quoted(text);
}

/** `'…'` with each `'` doubled: the one quoting rule of Trino, Athena and DuckDB string literals. */
function quoted(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * Characters that a value's literal spells as an escape instead of writing them into the query
 * text: C0 and C1 controls (NUL included), DEL, the line and paragraph separators, the byte-order
 * mark and the bidirectional overrides and isolates (which make a query file read differently from
 * what runs, CVE-2021-42574), so that a pack's `queries/*.sql` stays printable, one line per line.
 */
const ESCAPED = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/u;

/** With the `u` flag a surrogate pair is one code point, so this matches only a lone surrogate. */
const LONE_SURROGATE = /\p{Cs}/u;

/** The largest and smallest BIGINT (Trino's 64-bit signed integer). */
const BIGINT_MAX = 2n ** 63n - 1n;
const BIGINT_MIN = -(2n ** 63n);

/**
 * A value as a typed Trino (Athena engine v3) SQL literal: the one function through which a value
 * is ever written into query text, for the places where Athena takes no parameter (Athena user
 * guide, "Use parameterized queries": `?` only in the WHERE clause) and for Trino's
 * `EXECUTE IMMEDIATE … USING`.
 *
 * - string: `'…'` with `'` doubled (Trino has no backslash escapes); a string holding a character
 *   of {@link ESCAPED} is written as a Unicode literal `U&'…'` in which that character is `\XXXX` and `\` itself is `\\` (Trino SQL reference, "String literals");
 * - safe integer number or bigint: `BIGINT '…'`; other finite number: `DOUBLE '…'` (shortest round-trip
 *   text); boolean: `true` / `false`; null: `NULL`;
 * - list of strings: `ARRAY['…', …]` (an empty list typed `ARRAY(VARCHAR)`).
 *
 * @throws {SessiontrailError} `INTERNAL` for a non-finite number or a bigint outside BIGINT (numbers
 *   are computed by the tool); `BAD_REQUEST` for a string with a lone UTF-16 surrogate (no UTF-8
 *   text can carry it, so no engine could compare it).
 */
export function sqlLiteral(value: SqlValue): string {
  if (value === null) return 'NULL';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      if (value > BIGINT_MAX || value < BIGINT_MIN) {
        throw new SessiontrailError('INTERNAL', `expected a BIGINT value, received ${value} (out of range)`);
      }
      return `BIGINT '${value.toString()}'`;
    case 'number':
      if (!Number.isFinite(value)) {
        throw new SessiontrailError('INTERNAL', `expected a finite number value, received ${value}`);
      }
      // An integer beyond 2^53 is no longer exact as a number: it stays a DOUBLE.
      if (Number.isSafeInteger(value)) return sqlLiteral(BigInt(value));
      return `DOUBLE '${String(value)}'`;
    case 'string':
      return stringLiteral(value);
    default:
      if (Array.isArray(value)) {
        if (value.length === 0) return 'CAST(ARRAY[] AS ARRAY(VARCHAR))';
        return `ARRAY[${value.map((v) => stringLiteral(v)).join(', ')}]`;
      }
      throw new SessiontrailError('INTERNAL', `expected a SQL value, received a ${typeof value}`);
  }
}

function stringLiteral(text: string): string {
  if (LONE_SURROGATE.test(text)) {
    throw new SessiontrailError(
      'BAD_REQUEST',
      `expected well-formed Unicode text, received a string with a lone surrogate: ${JSON.stringify(text.slice(0, 40))}`,
    );
  }
  if (!ESCAPED.test(text)) return quoted(text);
  let out = '';
  for (const ch of text) {
    if (ch === '\\') out += '\\\\';
    else if (ch === "'") out += "''";
    else if (ESCAPED.test(ch)) {
      // Every escaped character is in the Basic Multilingual Plane: four hex digits.
      out += `\\${(ch.codePointAt(0) as number).toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return `U&'${out}'`;
}
