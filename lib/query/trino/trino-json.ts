/**
 * A JSON parser for Trino's result documents that keeps BIGINTs exact: `JSON.parse` rounds integers
 * beyond 2^53 (`9007199254740993` becomes `…992`). The reconstruction itself returns no such value,
 * but log fields do reach results as BIGINTs (record numbers, auditd serials, uids are the log
 * writer's, or an attacker's, numbers), and a rounded one would change the evidence. Integers beyond
 * `Number.MAX_SAFE_INTEGER` come back as their decimal text, which is what the DuckDB adapter returns
 * for them too; every other value is as `JSON.parse` gives.
 */
import { SessiontrailError } from '../../errors.ts';

/** Parses a JSON text; unsafe integers become strings of their digits. */
export function parseExactJson(text: string): unknown {
  const parser = new ExactJsonParser(text);
  const value = parser.value();
  parser.end();
  return value;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const INTEGER = /^-?\d+$/;

class ExactJsonParser {
  private at = 0;

  constructor(private readonly text: string) {}

  value(): unknown {
    this.space();
    const c = this.text[this.at];
    switch (c) {
      case '{':
        return this.object();
      case '[':
        return this.array();
      case '"':
        return this.string();
      case 't':
        return this.word('true', true);
      case 'f':
        return this.word('false', false);
      case 'n':
        return this.word('null', null);
      default:
        return this.number();
    }
  }

  end(): void {
    this.space();
    if (this.at !== this.text.length) this.fail('the end of the document');
  }

  private object(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.at++;
    this.space();
    if (this.text[this.at] === '}') {
      this.at++;
      return out;
    }
    for (;;) {
      this.space();
      if (this.text[this.at] !== '"') this.fail('a member name');
      const key = this.string();
      this.space();
      if (this.text[this.at] !== ':') this.fail("':'");
      this.at++;
      out[key] = this.value();
      this.space();
      const c = this.text[this.at++];
      if (c === '}') return out;
      if (c !== ',') this.fail("',' or '}'");
    }
  }

  private array(): unknown[] {
    const out: unknown[] = [];
    this.at++;
    this.space();
    if (this.text[this.at] === ']') {
      this.at++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.space();
      const c = this.text[this.at++];
      if (c === ']') return out;
      if (c !== ',') this.fail("',' or ']'");
    }
  }

  private string(): string {
    // Find the closing quote, skipping escapes, and let JSON.parse decode the escapes.
    const start = this.at;
    let i = start + 1;
    for (;;) {
      const c = this.text.charCodeAt(i);
      if (Number.isNaN(c)) this.fail('a closing quote');
      if (c === 0x5c) i += 2;
      else if (c === 0x22) break;
      else i++;
    }
    this.at = i + 1;
    return JSON.parse(this.text.slice(start, this.at)) as string;
  }

  private number(): number | string {
    NUMBER.lastIndex = this.at;
    const m = NUMBER.exec(this.text);
    if (m === null) this.fail('a JSON value');
    this.at += m[0].length;
    const n = Number(m[0]);
    if (INTEGER.test(m[0]) && !Number.isSafeInteger(n)) return BigInt(m[0]).toString();
    return n;
  }

  private word<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.at)) this.fail('a JSON value');
    this.at += word.length;
    return value;
  }

  private space(): void {
    while (this.at < this.text.length && ' \t\n\r'.includes(this.text[this.at] as string)) this.at++;
  }

  private fail(expected: string): never {
    throw new SessiontrailError(
      'QUERY_FAILED',
      `Trino sent a response that is not JSON: expected ${expected} at offset ${this.at}`,
    );
  }
}
