/**
 * What Athena accepts as a parameterized query. The Athena user guide ("Use parameterized
 * queries") says: "Currently, `?` parameters can be placed only in the WHERE clause. Syntax like
 * `SELECT ? FROM table` is not supported." So a query leaves here with `?` only in a WHERE clause,
 * and every other value written into its text as a typed literal by the one escaping function,
 * {@link sqlLiteral}.
 *
 * Where a `?` sits is found by {@link placeholderClauses}, a tokenizer (not a full SQL parser:
 * `node-sql-parser` is not a dependency, and no parser of Trino's grammar runs in Node) that skips
 * string literals, quoted identifiers and comments and tracks, per level of parentheses, the last
 * clause keyword seen. Its mistakes can only go one way: a `?` it does not recognise as being in a
 * WHERE clause is written as a literal, which Athena always accepts.
 */
import { SessiontrailError } from '../../errors.ts';
import { type SqlQuery, type SqlValue, sqlLiteral } from '../sql.ts';

/** The clause a `?` is in: `where` only for the WHERE clause of a query (not an aggregate's FILTER). */
export type PlaceholderClause =
  | 'where'
  | 'select'
  | 'from'
  | 'on'
  | 'group'
  | 'having'
  | 'order'
  | 'limit'
  | 'window'
  | 'values'
  | 'with'
  | 'filter'
  | 'statement';

/** Words that start a clause, and the clause they start. */
const CLAUSE_WORDS: Readonly<Record<string, PlaceholderClause>> = {
  SELECT: 'select',
  FROM: 'from',
  JOIN: 'from',
  UNNEST: 'from',
  WHERE: 'where',
  ON: 'on',
  USING: 'on',
  GROUP: 'group',
  HAVING: 'having',
  ORDER: 'order',
  LIMIT: 'limit',
  OFFSET: 'limit',
  FETCH: 'limit',
  WINDOW: 'window',
  PARTITION: 'window',
  ROWS: 'window',
  RANGE: 'window',
  QUALIFY: 'having',
  VALUES: 'values',
  WITH: 'with',
  UNION: 'statement',
  INTERSECT: 'statement',
  EXCEPT: 'statement',
  CREATE: 'statement',
  INSERT: 'statement',
};

/**
 * The clause of each `?` of `sql`, in textual order (the order of the query's parameters).
 *
 * @throws {SessiontrailError} `QUERY_FAILED` for text the tokenizer cannot follow (an unclosed
 *   string, quoted identifier or comment, or unbalanced parentheses).
 */
export function placeholderClauses(sql: string): PlaceholderClause[] {
  const out: PlaceholderClause[] = [];
  // One frame per open parenthesis: the clause in force at that level.
  const frames: { clause: PlaceholderClause; filter: boolean }[] = [{ clause: 'statement', filter: false }];
  let lastWord = '';
  let i = 0;
  const fail = (what: string): never => {
    throw new SessiontrailError('QUERY_FAILED', `cannot read the SQL text: ${what} at offset ${i}`);
  };
  const skipQuoted = (close: string) => {
    // Opening quote at i; a doubled closing quote is part of the text.
    for (i++; ; i++) {
      if (i >= sql.length) fail(`unclosed ${close}`);
      if (sql[i] === close) {
        if (sql[i + 1] === close) i++;
        else break;
      }
    }
    i++;
  };
  while (i < sql.length) {
    const c = sql[i] as string;
    const top = frames[frames.length - 1] as { clause: PlaceholderClause; filter: boolean };
    if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end === -1) fail('unclosed /* comment');
      i = end + 2;
    } else if (c === "'" || c === '"' || c === '`') {
      skipQuoted(c);
      lastWord = '';
    } else if (c === '?') {
      out.push(top.clause === 'where' && top.filter ? 'filter' : top.clause);
      i++;
      lastWord = '';
    } else if (c === '(') {
      // A parenthesis inherits its level's clause (`WHERE x IN (?, ?)`) until a clause word inside
      // it says otherwise (a subquery's SELECT); FILTER (WHERE …) belongs to the select list.
      frames.push({ clause: top.clause, filter: top.filter || lastWord === 'FILTER' });
      i++;
      lastWord = '';
    } else if (c === ')') {
      if (frames.length === 1) fail('unbalanced )');
      frames.pop();
      i++;
      lastWord = '';
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(sql.slice(i, i + 64)) as RegExpExecArray;
      const word = m[0].toUpperCase();
      i += m[0].length;
      // U&'…', E'…', X'…': the letter prefixes a string literal.
      if (sql[i] === "'") {
        skipQuoted("'");
        lastWord = '';
        continue;
      }
      const clause = CLAUSE_WORDS[word];
      if (clause !== undefined) top.clause = clause;
      lastWord = word;
    } else {
      if (!/\s/.test(c)) lastWord = '';
      i++;
    }
  }
  if (frames.length !== 1) fail('unclosed (');
  return out;
}

/**
 * The query as Athena is sent it: each `?` in a WHERE clause stays a parameter (its value becomes
 * an execution parameter, rendered by {@link sqlLiteral}); every other `?` is replaced by its
 * value's literal. A list value is always a literal (Athena's parameters are scalars). Applying it
 * twice changes nothing, so the pack's copy and the engine's are the same text.
 *
 * @throws {SessiontrailError} `QUERY_FAILED` when the text's `?` and the values do not match in
 *   number or the text cannot be read; `BAD_REQUEST` for a value with no literal (see {@link sqlLiteral}).
 */
export function athenaQuery(query: SqlQuery): SqlQuery {
  const clauses = placeholderClauses(query.sql);
  if (clauses.length !== query.params.length) {
    throw new SessiontrailError(
      'QUERY_FAILED',
      `query ${query.name} has ${clauses.length} ? in its text and ${query.params.length} value(s)`,
    );
  }
  const recordedIn = query.recordedParams ?? query.params;
  const params: SqlValue[] = [];
  const recordedParams: SqlValue[] = [];
  let n = 0;
  const sql = replacePlaceholders(query.sql, () => {
    const index = n++;
    const value = query.params[index] as SqlValue;
    if (clauses[index] === 'where' && !Array.isArray(value)) {
      params.push(value);
      recordedParams.push(recordedIn[index] as SqlValue);
      return '?';
    }
    return sqlLiteral(value);
  });
  return { name: query.name, sql, params, recordedParams };
}

/**
 * Checks a statement about to be sent to Athena: every `?` in a WHERE clause and as many `?` as
 * execution parameters.
 *
 * @throws {SessiontrailError} `QUERY_FAILED` naming the clauses of the misplaced `?`.
 */
export function assertAthenaPlaceholders(name: string, sql: string, parameters: number): void {
  const clauses = placeholderClauses(sql);
  const outside = clauses.filter((c) => c !== 'where');
  if (outside.length > 0 || clauses.length !== parameters) {
    throw new SessiontrailError(
      'QUERY_FAILED',
      `query ${name} is not one Athena accepts: ${outside.length} ? outside a WHERE clause (${[...new Set(outside)].join(', ') || 'none'}), ${clauses.length} ? for ${parameters} execution parameter(s)`,
    );
  }
}

/** Calls `replace` for each `?` outside strings, quoted identifiers and comments, in order. */
function replacePlaceholders(sql: string, replace: () => string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    let end = i + 1;
    if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      end = nl === -1 ? sql.length : nl + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      end = sql.indexOf('*/', i + 2) + 2;
    } else if (c === "'" || c === '"' || c === '`') {
      for (end = i + 1; end < sql.length; end++) {
        if (sql[end] === c) {
          if (sql[end + 1] === c) end++;
          else break;
        }
      }
      end++;
    } else if (c === '?') {
      out += replace();
      i++;
      continue;
    }
    out += sql.slice(i, end);
    i = end;
  }
  return out;
}
