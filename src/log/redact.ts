/**
 * The last line of defence for "secrets, codes and passwords never appear in logs" (SPEC §11): callers
 * already pass only safe fields, but a field whose name looks like a secret is dropped before an event
 * leaves the process (syslog) or reaches flash (the permanent log), at any depth.
 *
 * The match is by substring, case-insensitive, so `userPassword`, `otp_code`, `apiKey`, `scratchCodes`
 * and `sessionToken` are all caught. It also catches harmless names (`bypass`, `monkey`, `decode`): a
 * dropped harmless field costs a little detail, a leaked secret costs the appliance.
 */
export const SECRET_FIELD = /pass|pwd|secret|code|key|token|otp|credential|cookie/i;

/** `fields` without secret-looking names (nested objects too); `dropped` counts what was removed. */
export function redactFields(fields: Record<string, unknown>): { fields: Record<string, unknown>; dropped: number } {
  // Nearly every audit event is flat and clean (user, client, result, reason): hand it back as it is,
  // without a copy, since this runs for every event of every login.
  let flatAndClean = true;
  for (const k in fields) {
    const v = fields[k];
    if (SECRET_FIELD.test(k) || (v !== null && typeof v === 'object' && !(v instanceof Date))) {
      flatAndClean = false;
      break;
    }
  }
  if (flatAndClean) return { fields, dropped: 0 };
  let dropped = 0;
  const clean = (value: unknown, depth: number): unknown => {
    if (value === null || typeof value !== 'object' || value instanceof Date) return value;
    if (depth > 8) return '[nested too deep]';
    if (Array.isArray(value)) return value.map((v) => clean(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (SECRET_FIELD.test(k)) dropped++;
      else out[k] = clean(v, depth + 1);
    }
    return out;
  };
  return { fields: clean(fields, 0) as Record<string, unknown>, dropped };
}
