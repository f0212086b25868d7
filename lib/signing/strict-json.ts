/**
 * A JSON reader that refuses what `JSON.parse` silently accepts: an object with the same key twice.
 * `JSON.parse` keeps the last value, while another reader (Go's `encoding/json` keeps the last too,
 * but many streaming parsers keep the first) may keep another, so one signed manifest could say
 * two things. RFC 8259 §4: "The names within an object SHOULD be unique"; RFC 8785 §3.1 requires
 * it of canonical JSON. Keys are compared after unescaping (`"a"` and `"\u0061"` are the same key).
 */

/** Where a duplicate key was found. */
export interface DuplicateKey {
  /** The key, unescaped. */
  readonly key: string;
  /** JSON-pointer-like path of the object holding it, e.g. `/predicate/signer`. */
  readonly path: string;
}

/**
 * The first duplicate key in `text`, or `null` when every object's keys are unique. The text must
 * already be known to parse as JSON (call `JSON.parse` first): this walks its tokens and does not
 * report syntax errors.
 */
export function findDuplicateKey(text: string): DuplicateKey | null {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const readString = (): string => {
    const start = i;
    i++; // opening quote
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++; // closing quote
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string): DuplicateKey | null => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const seen = new Set<string>();
      ws();
      if (text[i] === '}') {
        i++;
        return null;
      }
      for (;;) {
        ws();
        const key = readString();
        if (seen.has(key)) return { key, path: path || '/' };
        seen.add(key);
        ws();
        i++; // ':'
        const found = value(`${path}/${key}`);
        if (found) return found;
        ws();
        if (text[i++] === '}') return null;
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return null;
      }
      for (let n = 0; ; n++) {
        const found = value(`${path}/${n}`);
        if (found) return found;
        ws();
        if (text[i++] === ']') return null;
      }
    }
    if (c === '"') {
      readString();
      return null;
    }
    // number, true, false, null
    while (i < text.length && !',]} \t\n\r'.includes(text[i] as string)) i++;
    return null;
  };
  return value('');
}
