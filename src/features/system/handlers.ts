/**
 * Host name, clock, version, system summary and reboot.
 */
import { freemem, totalmem } from 'node:os';
import { msg } from '../../cli/messages.ts';
import { DEFAULT_HOSTNAME } from '../../config/model.ts';
import { arg } from '../../session/context.ts';
import { localToUtc } from '../../time/timezone.ts';
import type { Handlers } from '../appliance.ts';
import { zoneOf } from '../time/zone.ts';
import { formatClock, formatLog, formatSystem, formatVersion } from './show.ts';

export const handlers = {
  'system.hostname': (ctx) => {
    const name = ctx.no ? DEFAULT_HOSTNAME : arg.str(ctx, 'name');
    ctx.app.config.update((c) => void (c.hostname = name));
  },
  'system.password-encryption': (ctx) => ctx.app.config.update((c) => void (c.passwordEncryption = !ctx.no)),
  'system.show-version': (ctx) => ctx.out.lines(formatVersion(ctx.app.version)),
  'system.show-log': (ctx) => ctx.out.lines(formatLog(ctx.app.log.recent(ctx.args['tail'] ? 10 : undefined), zoneOf(ctx.app.config.current))),
  'system.show-clock': (ctx) => ctx.out.lines(formatClock(ctx.app.clock.now(), zoneOf(ctx.app.config.current))),
  'system.show-system': (ctx) => {
    const s = ctx.app;
    const usage = s.flash.usage();
    const bootConfig = s.bootEnv.boot().configFile;
    ctx.out.lines(
      formatSystem({
        now: s.clock.now(),
        zone: zoneOf(s.config.current),
        bootedAt: s.bootedAt(),
        version: s.version,
        hostname: s.config.current.hostname,
        bootConfig,
        bootConfigExists: s.flash.exists(bootConfig),
        ramTotalKb: Math.round(totalmem() / 1024),
        ramFreeKb: Math.round(freemem() / 1024),
        flashUsed: usage.used,
        flashFree: usage.free,
      }),
    );
  },
  // clock set HH:MM:SS DAY MONTH YEAR: the appliance clock every OTP check uses (SPEC §4), given in
  // local time when `clock timezone` is set, as AW+ takes it. Refused while NTP steers the clock
  // (SPEC §17): the next poll would undo it, and a hand-set clock must not fight the server.
  'system.clock-set': (ctx) => {
    if (ctx.app.ntp.status().synchronised) ctx.error(msg.clockSetByNtp);
    const t = arg.opt<{ hours: number; minutes: number; seconds: number }>(ctx, 'time')!;
    const day = arg.num(ctx, 'day');
    const month = arg.num(ctx, 'month');
    const year = arg.num(ctx, 'year');
    const local = Date.UTC(year, month - 1, day, t.hours, t.minutes, t.seconds);
    if (new Date(local).getUTCDate() !== day) ctx.error(msg.badDate);
    const ms = localToUtc(local, zoneOf(ctx.app.config.current));
    ctx.app.clock.set(ms);
    ctx.app.bootEnv.saveClockOffset(ctx.app.clock.offset);
    ctx.app.log.info('clock-set', { user: ctx.session.user, time: new Date(ms).toISOString() });
  },
  // `reboot system? (y/n): ` (awplus-spec.md §4.4 [FOUND S14]); anything but y/Y cancels.
  'system.reboot': async (ctx) => {
    const answer = await ctx.session.ask(msg.rebootConfirm);
    if (answer === null || !/^y(es)?$/i.test(answer.trim())) return;
    ctx.out.line(msg.rebooting);
    await ctx.app.reboot();
  },
} satisfies Handlers;
