/**
 * Saving and showing configurations, the boot config file and flash files.
 */
import { msg } from '../../cli/messages.ts';
import { arg } from '../../session/context.ts';
import { flashName } from '../../util/flash.ts';
import type { Ctx, Handlers } from '../services.ts';
import { formatBoot, formatDir } from './show.ts';

const DEFAULT_BOOT_CONFIG = 'default.cfg';

/** The flash name of a `flash-file` argument (the type already checked its shape). */
const fileArg = (ctx: Ctx): string => flashName(arg.str(ctx, 'file'))!;

function errorText(e: unknown): string {
  return e instanceof Error ? e.message.replace(/^\w+: /, '') : String(e);
}

export const handlers = {
  'files.show-running-config': (ctx) => {
    const section = ctx.services.sectionNames.find((name) => ctx.args[name] === true);
    ctx.out.lines(ctx.services.renderRunning(section));
  },
  // Writes exactly what `show running-config` shows (aesthetics.md §7 "Saving").
  'files.write': (ctx) => {
    const name = ctx.services.boot().configFile;
    ctx.out.line(msg.buildingConfig);
    try {
      ctx.services.flash.write(name, ctx.services.renderRunning());
    } catch (e) {
      ctx.error(msg.fileWriteError(`flash:/${name}`, errorText(e)));
    }
    ctx.services.log.info('config-saved', { user: ctx.session.user, file: name });
    ctx.out.line(msg.ok);
  },
  'files.show-startup-config': (ctx) => {
    const name = ctx.services.boot().configFile;
    if (!ctx.services.flash.exists(name)) ctx.error(msg.fileNotFound(`flash:/${name}`));
    ctx.out.lines(ctx.services.flash.read(name));
  },
  'files.erase-startup': (ctx) => {
    const name = ctx.services.boot().configFile;
    if (!ctx.services.flash.exists(name)) ctx.error(msg.fileNotFound(`flash:/${name}`));
    ctx.out.line(msg.startupErased);
    ctx.services.flash.delete(name);
    ctx.services.log.info('config-erased', { user: ctx.session.user, file: name });
  },
  'files.show-boot': (ctx) => {
    const { flash, version } = ctx.services;
    const current = ctx.services.boot().configFile;
    ctx.out.lines(formatBoot(version, current, flash.exists(current), flash.exists(DEFAULT_BOOT_CONFIG)));
  },
  'files.dir': (ctx) => ctx.out.lines(formatDir(ctx.services.flash.list())),
  'files.show-file': (ctx) => {
    const name = fileArg(ctx);
    if (!ctx.services.flash.exists(name)) ctx.error(msg.fileNotFound(`flash:/${name}`));
    try {
      ctx.out.lines(ctx.services.flash.read(name));
    } catch (e) {
      ctx.error(msg.fileReadError(`flash:/${name}`, errorText(e)));
    }
  },
  'files.delete': (ctx) => {
    const name = fileArg(ctx);
    if (!ctx.services.flash.exists(name)) ctx.error(msg.fileNotFound(`flash:/${name}`));
    ctx.services.flash.delete(name);
  },
  // The boot config file lives in the boot environment, not in the config (awplus-spec.md §4.4).
  'files.boot-config': (ctx) => {
    const name = ctx.no ? DEFAULT_BOOT_CONFIG : fileArg(ctx);
    if (!ctx.no && !ctx.services.flash.exists(name)) ctx.error(msg.bootConfigMissing(`flash:/${name}`));
    ctx.services.setBoot({ configFile: name });
  },
} satisfies Handlers;
