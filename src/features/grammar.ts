/**
 * The product grammar: every `grammar/*.cli` file with the AW+-specific parameter types, compiled once
 * per process (it is immutable) and checked against the handlers.
 */
import { fileURLToPath } from 'node:url';
import { isLoginName } from '../auth/types.ts';
import type { Grammar } from '../cli/grammar/graph.ts';
import { loadGrammar } from '../cli/grammar/load.ts';
import type { Validator } from '../cli/types.ts';
import { checkBindings } from '../session/session.ts';
import { isAttributeType } from '../ldap/syntax.ts';
import { isCryptHash } from '../util/crypt.ts';
import { flashName } from '../util/flash.ts';
import { handlers } from './index.ts';

const GRAMMAR_DIR = fileURLToPath(new URL('../../grammar', import.meta.url));

/** Validators for AW+-specific parameter types (grammar/types.cli). */
const validators: Record<string, Validator> = {
  'flash-file': (w) => (flashName(w) !== undefined ? { ok: true, value: w } : { ok: false }),
  // A copy destination spells out `flash:`, so that a word such as `start` stays `startup-config`.
  'flash-dest': (w) => (/^flash:/i.test(w) && flashName(w) !== undefined ? { ok: true, value: w } : { ok: false }),
  // 1-64 chars; first a letter or a symbol other than '+' (awplus-spec.md §4.7 [FOUND S8]).
  username: (w) => (/^[A-Za-z_.@-][A-Za-z0-9_.@+-]{0,63}$/.test(w) ? { ok: true, value: w } : { ok: false }),
  // A 2FA user is named as the NAS sends User-Name (RFC 2865 §5.1: up to 253 octets): `DOMAIN\bob`
  // and `bob@example.com` included; no spaces, quotes or control characters.
  'login-name': (w) => (isLoginName(w) ? { ok: true, value: w } : { ok: false }),
  password: (w) => (w.length >= 1 && w.length <= 32 ? { ok: true, value: w } : { ok: false }),
  'ldap-attribute': (w) => (isAttributeType(w) ? { ok: true, value: w } : { ok: false }),
  'crypt-hash': (w) => (isCryptHash(w) ? { ok: true, value: w } : { ok: false }),
  // `A.B.C.D/M`, octets without leading zeros; whether it fits its use is the command's to say.
  'ipv4-prefix': (w) => (/^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\/(3[0-2]|[12]?\d)$/.test(w) ? { ok: true, value: w } : { ok: false }),
  // AW+ names tunnel interfaces tunnelN; like IOS, the name is not case-sensitive (`Tunnel0`).
  'tunnel-if': (w) => (/^tunnel(0|[1-9]\d{0,4})$/i.test(w) ? { ok: true, value: w.toLowerCase() } : { ok: false }),
  // `2fa store postgresql URL` (SPEC §16): the command checks the rest, and says what is wrong.
  'pg-url': (w) => (/^postgres(ql)?:\/\/\S+$/i.test(w) ? { ok: true, value: w } : { ok: false }),
  // Copy sources of `2fa import user-data` (SPEC §9).
  'source-url': (w) => (flashName(w) !== undefined && /^flash:/i.test(w)) || /^(tftp|https?):\/\/[^/\s]+\/\S/i.test(w) ? { ok: true, value: w } : { ok: false },
};

let compiled: Grammar | undefined;

export function productGrammar(): Grammar {
  if (!compiled) {
    const grammar = loadGrammar(GRAMMAR_DIR, validators);
    const problems = checkBindings(grammar, handlers);
    if (problems.length) throw new Error(`grammar and handlers disagree:\n${problems.join('\n')}`);
    compiled = grammar;
  }
  return compiled;
}
