/**
 * Saving and showing configurations, the boot config file and flash files.
 */
import { msg } from '../../cli/messages.ts';
import { arg } from '../../session/context.ts';
import { DEFAULT_BOOT_CONFIG } from '../../config/boot-env.ts';
import { flashName } from '../../util/flash.ts';
import type { Ctx, Handlers } from '../appliance.ts';
import { zoneOf } from '../time/zone.ts';
import { formatBoot, formatDir } from './show.ts';

/** The flash name of a `flash-file` argument (the type already checked its shape). */
const fileArg = (ctx: Ctx): string => flashName(arg.str(ctx, 'file'))!;

function errorText(e: unknown): string {
  return e instanceof Error ? e.message.replace(/^\w+: /, '') : String(e);
}

/** `write memory` and `copy running-config FILE`: the running config as `show running-config` shows it, into `name`. */
function saveRunning(ctx: Ctx, name: string): void {
  ctx.out.line(msg.buildingConfig);
  try {
    ctx.app.flash.write(name, ctx.app.renderRunning());
  } catch (e) {
    ctx.error(msg.fileWriteError(`flash:/${name}`, errorText(e)));
  }
  ctx.app.log.info('config-saved', { user: ctx.session.user, file: name });
  ctx.out.line(msg.ok);
}

export const handlers = {
  'files.show-running-config': (ctx) => {
    const section = ctx.app.sectionNames.find((name) => ctx.args[name] === true);
    ctx.out.lines(ctx.app.renderRunning(section));
  },
  // Writes exactly what `show running-config` shows (aesthetics.md §7 "Saving").
  'files.write': (ctx) => saveRunning(ctx, ctx.app.bootEnv.boot().configFile),
  // Another config file, for `boot config-file` or as a backup.
  'files.copy-running': (ctx) => saveRunning(ctx, fileArg(ctx)),
  'files.copy-startup': (ctx) => {
    const from = ctx.app.bootEnv.boot().configFile;
    const to = fileArg(ctx);
    if (!ctx.app.flash.exists(from)) ctx.error(msg.fileNotFound(`flash:/${from}`));
    try {
      ctx.app.flash.write(to, ctx.app.flash.read(from));
    } catch (e) {
      ctx.error(msg.fileWriteError(`flash:/${to}`, errorText(e)));
    }
    ctx.app.log.info('config-copied', { user: ctx.session.user, from, file: to });
    ctx.out.line(msg.ok);
  },
  'files.show-startup-config': (ctx) => {
    const name = ctx.app.bootEnv.boot().configFile;
    if (!ctx.app.flash.exists(name)) ctx.error(msg.fileNotFound(`flash:/${name}`));
    ctx.out.lines(ctx.app.flash.read(name));
  },
  'files.erase-startup': (ctx) => {
    const name = ctx.app.bootEnv.boot().configFile;
    if (!ctx.app.flash.exists(name)) ctx.error(msg.fileNotFound(`flash:/${name}`));
    ctx.out.line(msg.startupErased);
    ctx.app.flash.delete(name);
    ctx.app.log.info('config-erased', { user: ctx.session.user, file: name });
  },
  'files.show-boot': (ctx) => {
    const { flash, version } = ctx.app;
    const current = ctx.app.bootEnv.boot().configFile;
    ctx.out.lines(formatBoot(version, current, flash.exists(current), flash.exists(DEFAULT_BOOT_CONFIG)));
  },
  'files.dir': (ctx) => ctx.out.lines(formatDir(ctx.app.flash.list(), zoneOf(ctx.app.config.current))),
  'files.show-file': (ctx) => {
    const name = fileArg(ctx);
    if (!ctx.app.flash.exists(name)) ctx.error(msg.fileNotFound(`flash:/${name}`));
    try {
      ctx.out.lines(ctx.app.flash.read(name));
    } catch (e) {
      ctx.error(msg.fileReadError(`flash:/${name}`, errorText(e)));
    }
  },
  'files.delete': (ctx) => {
    const name = fileArg(ctx);
    if (!ctx.app.flash.exists(name)) ctx.error(msg.fileNotFound(`flash:/${name}`));
    ctx.app.flash.delete(name);
  },
  // The boot config file lives in the boot environment, not in the config (awplus-spec.md §4.4).
  'files.boot-config': (ctx) => {
    const name = ctx.no ? DEFAULT_BOOT_CONFIG : fileArg(ctx);
    if (!ctx.no && !ctx.app.flash.exists(name)) ctx.error(msg.bootConfigMissing(`flash:/${name}`));
    ctx.app.bootEnv.setBoot({ configFile: name });
  },
} satisfies Handlers;
