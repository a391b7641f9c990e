/**
 * Secrets masked out of a configuration line before it is shown in an error or a log (issue #17: a
 * boot-config line that failed was echoed whole to stderr, keys and passwords included).
 *
 * Every AW+ command that carries a secret names it with a keyword right before it — `password`,
 * `key`, `secret`, optionally followed by `8` and the sealed form — and any keyword may be abbreviated
 * (`radius-server host A k KEY`), so the word after any unique-looking prefix of those keywords is
 * masked. A URL's user information (`postgresql://user:PASSWORD@host`) is masked too. Masking a harmless
 * word by mistake costs a little detail in an error; missing a secret puts it in every log sink.
 */

const KEYWORDS = ['password', 'key', 'secret'];
const MASK = '****';

/** A word of a line: a double-quoted string (spaces allowed) or a run of non-space characters. */
const WORD = /"(?:[^"\\]|\\.)*"?|\S+/g;

function namesSecret(word: string): boolean {
  const w = word.toLowerCase();
  return KEYWORDS.some((k) => k.startsWith(w));
}

/** `line` with the word after each secret-naming keyword (and after its `8`) replaced by `****`. */
export function maskSecrets(line: string): string {
  let out = '';
  let last = 0;
  let maskNext = false;
  for (const m of line.matchAll(WORD)) {
    const word = m[0];
    out += line.slice(last, m.index);
    last = m.index + word.length;
    if (maskNext) {
      out += MASK;
      // `password 8 SEALED`: the sealed form comes one word later.
      maskNext = word === '8';
      continue;
    }
    out += word;
    maskNext = namesSecret(word);
  }
  out += line.slice(last);
  // scheme://user:password@host
  return out.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:)[^\s/@]*@/gi, `$1${MASK}@`);
}
