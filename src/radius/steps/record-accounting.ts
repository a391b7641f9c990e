/**
 * RFC 2866 §4.1: "Upon receipt of an Accounting-Request, the server MUST transmit an
 * Accounting-Response reply if it successfully records the accounting packet". The record is the audit
 * log's `radius-accounting` event (stderr or its file, the permanent log in flash, syslog): the NAS,
 * the user, the session, what happened to it, and — when the NAS says — the tunnel address, the
 * session's length, its traffic and why it ended. Acct-Status-Type must be present (§5.1) as an
 * integer (4 octets, RFC 2865 §5); a request without one says nothing to record and is dropped.
 */
import { attr, Attr, type Packet } from '../packet.ts';
import { drop, need, next, type Step } from '../step.ts';

/** RFC 2866 §5.1, RFC 2867 §4.1 and RFC 2869 §5.1. */
const STATUS: Record<number, string> = { 1: 'start', 2: 'stop', 3: 'interim-update', 7: 'accounting-on', 8: 'accounting-off', 9: 'tunnel-start', 10: 'tunnel-stop', 11: 'tunnel-reject', 12: 'tunnel-link-start', 13: 'tunnel-link-stop', 14: 'tunnel-link-reject', 15: 'failed' };

/** RFC 2866 §5.10. */
const TERMINATE_CAUSE = [
  'user-request', 'lost-carrier', 'lost-service', 'idle-timeout', 'session-timeout', 'admin-reset', 'admin-reboot', 'port-error', 'nas-error',
  'nas-request', 'nas-reboot', 'port-unneeded', 'port-preempted', 'port-suspended', 'service-unavailable', 'callback', 'user-error', 'host-request',
];

/** An integer attribute (4 octets, RFC 2865 §5); undefined when absent or of another length. */
function integer(p: Packet, type: number): number | undefined {
  const v = attr(p, type);
  return v?.length === 4 ? v.readUInt32BE(0) : undefined;
}

const string = (p: Packet, type: number) => attr(p, type)?.toString('utf8');

/**
 * A 64-bit counter from its low 32 bits and its Gigawords attribute (RFC 2869 §5.1, §5.2): a number,
 * or a decimal string beyond 2^53, where a number would round.
 */
function octets(p: Packet, low: number, high: number): number | string | undefined {
  const l = integer(p, low);
  if (l === undefined) return undefined;
  const v = (BigInt(integer(p, high) ?? 0) << 32n) | BigInt(l);
  return v <= Number.MAX_SAFE_INTEGER ? Number(v) : v.toString();
}

export const recordAccounting: Step = (req, env) => {
  const p = need(req.packet, 'packet');
  const type = integer(p, Attr.AcctStatusType);
  if (type === undefined) return drop('bad-acct-status-type');
  const status = STATUS[type];
  const ip = attr(p, Attr.FramedIpAddress);
  const cause = integer(p, Attr.AcctTerminateCause);
  env.log.info('radius-accounting', {
    client: req.from.address,
    user: string(p, Attr.UserName),
    status: status ?? `status-${type}`,
    session: string(p, Attr.AcctSessionId),
    // RFC 2866 §5.2: how long the NAS had been trying to send this record; the event happened that much earlier.
    delay: integer(p, Attr.AcctDelayTime),
    framedIp: ip?.length === 4 ? ip.join('.') : undefined,
    callingStation: string(p, Attr.CallingStationId),
    sessionTime: integer(p, Attr.AcctSessionTime),
    inputOctets: octets(p, Attr.AcctInputOctets, Attr.AcctInputGigawords),
    outputOctets: octets(p, Attr.AcctOutputOctets, Attr.AcctOutputGigawords),
    terminateCause: cause === undefined ? undefined : (TERMINATE_CAUSE[cause - 1] ?? String(cause)),
  });
  // Unknown values are counted together: a NAS must not grow the statistics without bound.
  env.stats.reason(status ?? 'other');
  return next;
};
