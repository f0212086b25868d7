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
}

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
    return { name, sql: text, params, recordedParams };
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

/** Quotes a string as a SQL literal; only for constants written in this code base, never for input. */
export function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
