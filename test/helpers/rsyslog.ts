/**
 * rsyslogd (Debian `rsyslog`) as a real syslog receiver for the tests: `rsyslogd -n -f FILE -i PIDFILE`
 * in the foreground with its own config: imudp on a free port on 127.0.0.1 and ::1, no imklog or
 * imuxsock (nothing from the host), and for every message with APP-NAME `awplus` one JSON line in a
 * file: the raw datagram, the header fields as rsyslog parsed them, and the structured data as
 * rsyslog's mmpstrucdata module unescaped it (`sd_name.lowercase="off"` keeps names as sent).
 */
import { createSocket } from 'node:dgram';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Daemon, freeUdpPort } from './daemon.ts';
import { peer } from './peers.ts';

export const RSYSLOGD = '/usr/sbin/rsyslogd';

/** What rsyslog made of one message. */
export interface Received {
  raw: string;
  pri: string;
  version: string;
  time: string;
  host: string;
  app: string;
  procid: string;
  msgid: string;
  sd: string;
  msg: string;
  /** The sender's address as rsyslog saw it. */
  from: string;
  /** mmpstrucdata's parse: SD-ID → PARAM-NAME → value. */
  parsed: Record<string, Record<string, string>>;
}

export interface Rsyslog {
  readonly port: number;
  readonly daemon: Daemon;
  /** Everything received so far. */
  received(): Received[];
  /** Waits (bounded) until `count` messages matching `pick` arrived. */
  waitFor(pick: (r: Received) => boolean, count?: number, timeoutMs?: number): Promise<Received[]>;
  stop(): Promise<void>;
}

export async function startRsyslog(): Promise<Rsyslog> {
  const dir = Daemon.tempDir(peer('rsyslogd'), 'rsyslog', 'awplus-rsyslog-');
  const port = await freeUdpPort();
  const out = join(dir, 'received.jsonl');
  const conf = join(dir, 'rsyslog.conf');
  const prop = (outname: string, name: string, extra = '') => `  property(outname="${outname}" name="${name}" format="jsonf"${extra})`;
  writeFileSync(
    conf,
    [
      `global(workDirectory="${dir}")`,
      'module(load="imudp")',
      'module(load="mmpstrucdata")',
      `input(type="imudp" address="127.0.0.1" port="${port}")`,
      `input(type="imudp" address="::1" port="${port}")`,
      'template(name="fields" type="list" option.jsonf="on") {',
      prop('raw', 'rawmsg'),
      prop('pri', 'pri'),
      prop('version', 'protocol-version'),
      prop('time', 'timereported', ' dateFormat="rfc3339"'),
      prop('host', 'hostname'),
      prop('app', 'app-name'),
      prop('procid', 'procid'),
      prop('msgid', 'msgid'),
      prop('sd', 'structured-data'),
      prop('msg', 'msg'),
      prop('from', 'fromhost-ip'),
      '  property(outname="parsed" name="$!rfc5424-sd" format="jsonf")',
      '}',
      'if $app-name == "awplus" then {',
      '  action(type="mmpstrucdata" sd_name.lowercase="off")',
      `  action(type="omfile" file="${out}" template="fields")`,
      '}',
      '',
    ].join('\n'),
  );
  const daemon = Daemon.spawn(RSYSLOGD, ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')], dir);

  const received = (): Received[] => {
    if (!existsSync(out)) return [];
    return readFileSync(out, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => {
        const r = JSON.parse(l) as Omit<Received, 'parsed'> & { parsed?: unknown };
        // `parsed` arrives as a JSON text inside the JSON line (jsonf of a JSON property), or empty.
        const p = typeof r.parsed === 'string' && r.parsed !== '' ? JSON.parse(r.parsed) : (r.parsed ?? {});
        return { ...r, parsed: p } as Received;
      });
  };

  // Ready once a probe datagram comes out in the file: the whole path works, not only the socket.
  const probe = createSocket('udp4');
  try {
    await daemon.waitUntil(`rsyslogd on port ${port}`, () => {
      probe.send(`<14>1 - - awplus - ready - -`, port, '127.0.0.1');
      return received().some((r) => r.msgid === 'ready');
    });
  } finally {
    probe.close();
  }

  return {
    port,
    daemon,
    received,
    async waitFor(pick, count = 1, timeoutMs = 5000) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const got = received().filter(pick);
        if (got.length >= count) return got;
        if (performance.now() > deadline) throw new Error(`rsyslog got ${got.length} of ${count} messages in ${timeoutMs} ms; all:\n${JSON.stringify(received(), null, 1)}\n${daemon.output}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    stop: () => daemon.stop(),
  };
}
