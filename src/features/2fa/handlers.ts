/**
 * 2FA commands (SPEC §4): the global settings in config mode, and users in EXEC through the 2FA
 * facade. Every command but `service 2fa` needs the service enabled (AW+ manual 基本設定 1:
 * 2FA関連の設定は2要素認証サービスが有効になっていないと行えない).
 */
import { msg } from '../../cli/messages.ts';
import { TWOFA_DEFAULTS, type TwoFaConfig } from '../../config/model.ts';
import { arg } from '../../session/context.ts';
import { otpauthUrl, qrLink, renderQr } from '../../twofa/enrolment.ts';
import { parseTemplate } from '../../twofa/email-otp.ts';
import { TwoFaError } from '../../twofa/facade.ts';
import { parsePgUrl } from '../../twofa/store/pg-target.ts';
import { sameChoice } from '../../twofa/store/stores.ts';
import { StoreUnavailableError, StoreWriteError } from '../../twofa/store/types.ts';
import type { TwoFaUser } from '../../twofa/types.ts';
import { UserDataError } from '../../twofa/user-data.ts';
import { SourceError } from '../../util/fetch-source.ts';
import { flashName } from '../../util/flash.ts';
import type { Ctx, FeatureHandler, Handlers } from '../appliance.ts';
import { applyPage } from '../self-registration/handlers.ts';
import { secretArg } from '../secrets.ts';
import { zoneOf } from '../time/zone.ts';
import { storeChoice, twofaSettings } from './settings.ts';
import { formatCreated, formatSettings, formatStore, formatUser, formatUsers } from './show.ts';

/** The file carries every secret: a password that short is guessed offline in no time [OURS]. */
const MIN_EXPORT_PASSWORD = 8;

/** Wraps a handler: refused unless `service 2fa`; engine refusals become their `% ` messages. */
function needsService(handler: FeatureHandler): FeatureHandler {
  return async (ctx) => {
    if (!ctx.app.config.current.twofa.enabled) ctx.error(msg.twofaDisabled);
    try {
      await handler(ctx);
    } catch (e) {
      // A full or failing flash: the change did not happen (the store keeps nothing it could not write).
      if (e instanceof StoreWriteError) return ctx.error(msg.storeWriteFailed(e.reason));
      // A shared store that cannot answer: one statement per change, so nothing was half-applied.
      if (e instanceof StoreUnavailableError) ctx.error(msg.storeUnavailable(e.message));
      if (!(e instanceof TwoFaError)) throw e;
      const text = {
        exists: msg.twofaUserExists(e.user),
        'no-such-user': msg.twofaNoSuchUser(e.user),
        'bad-secret': msg.twofaBadSecret,
        'short-secret': msg.twofaShortSecret,
        'not-applicable': msg.twofaSkipUser(e.user),
      }[e.code];
      ctx.error(text);
    }
  };
}

/** A config setting: `value` for the positive form, the default for `no`. */
function setting<K extends keyof TwoFaConfig>(key: K, value: (ctx: Ctx) => TwoFaConfig[K]): FeatureHandler {
  return needsService((ctx) => {
    const v = ctx.no ? TWOFA_DEFAULTS[key] : value(ctx);
    ctx.app.config.update((c) => void (c.twofa[key] = v));
  });
}

/**
 * Issuer and label end up in every otpauth URI and QR code; authenticator apps show a few dozen
 * characters, and a long one makes the QR code too dense to scan [OURS].
 */
const MAX_LABEL = 64;

function limited(ctx: Ctx, text: string, what: 'issuer' | 'label'): string {
  if ([...text].length > MAX_LABEL) ctx.error(msg.tooLong(what, MAX_LABEL));
  return text;
}

/** Prints the QR code for `qr {ansi|utf8|link}`, if asked. */
function printQr(ctx: Ctx, url: string): void {
  if (ctx.args['utf8']) ctx.out.lines(renderQr(url, 'utf8'));
  // Colour escapes drawn here, around block characters only: the one output shown unescaped.
  else if (ctx.args['ansi']) ctx.out.raw(renderQr(url, 'ansi'));
  else if (ctx.args['link']) ctx.out.lines([`QR code link: ${qrLink(url)}`, msg.twofaQrLinkWarning]);
}

const urlOf = (ctx: Ctx, u: TwoFaUser) => otpauthUrl(u, twofaSettings(ctx.app.config.current));

export const handlers = {
  '2fa.service': async (ctx) => {
    ctx.app.config.update((c) => void (c.twofa.enabled = !ctx.no));
    // The self-registration page opens and closes with the service.
    await applyPage(ctx);
  },
  '2fa.reject-unconfigured': setting('rejectUnconfigured', () => true),
  '2fa.allow-reuse': setting('allowReuse', () => true),
  '2fa.totp-window': setting('totpWindow', (ctx) => arg.num(ctx, 'size')),
  '2fa.hotp-window': setting('hotpWindow', (ctx) => arg.num(ctx, 'size')),
  '2fa.skew-adjust': setting('skewAdjust', () => true),
  '2fa.max-skew': setting('maxSkew', (ctx) => arg.num(ctx, 'steps')),
  '2fa.issuer': setting('issuer', (ctx) => limited(ctx, arg.str(ctx, 'issuer'), 'issuer')),
  '2fa.label': setting('label', (ctx) => limited(ctx, arg.str(ctx, 'label'), 'label')),
  // AW+ manual 電子メールを使用する場合 2: warn when the mail settings do not use TLS.
  '2fa.email-otp': needsService((ctx) => {
    ctx.app.config.update((c) => void (c.twofa.emailOtp = !ctx.no));
    if (!ctx.no && ctx.app.config.current.mail.tls === 'off') ctx.out.line(msg.emailOtpNotSecure);
  }),
  // The template is checked now, at configuration time: a missing file or unknown variable is an error.
  '2fa.email-template': needsService((ctx) => {
    if (ctx.no) return ctx.app.config.update((c) => void (c.twofa.emailTemplate = undefined));
    const name = flashName(arg.str(ctx, 'file'))!;
    if (!ctx.app.flash.exists(name)) return ctx.error(msg.templateMissing(name));
    try {
      parseTemplate(ctx.app.flash.read(name));
    } catch (e) {
      return ctx.error(msg.templateInvalid((e as Error).message));
    }
    ctx.app.config.update((c) => void (c.twofa.emailTemplate = name));
  }),
  '2fa.lockout': needsService((ctx) =>
    ctx.app.config.update((c) => {
      c.twofa.lockoutFailures = ctx.no ? TWOFA_DEFAULTS.lockoutFailures : arg.num(ctx, 'failures');
      c.twofa.lockoutPeriod = ctx.no ? TWOFA_DEFAULTS.lockoutPeriod : arg.num(ctx, 'period');
    }),
  ),

  // SPEC §16. The store in use changes at the next boot (twofa/store/stores.ts says why).
  '2fa.store': needsService((ctx) => {
    let store: TwoFaConfig['store'];
    if (!ctx.no) {
      const parsed = parsePgUrl(arg.str(ctx, 'url'));
      if ('error' in parsed) return ctx.error(msg.storeBadUrl(parsed.error));
      const typed = arg.has(ctx, 'password') ? secretArg(ctx, 'password') : undefined;
      if (typed !== undefined && parsed.password !== undefined) return ctx.error(msg.storePasswordTwice);
      store = { url: parsed.url, password: typed ?? parsed.password };
    }
    ctx.app.config.update((c) => void (c.twofa.store = store));
    const next = storeChoice(ctx.app.config.current);
    if (!sameChoice(next, ctx.app.userStore.choice)) ctx.out.line(next.kind === 'embedded' ? msg.storeEmbeddedAtReboot : msg.storeAtReboot);
  }),
  // One transaction; a user already there with other data stops it (postgresql.ts migrateFrom).
  '2fa.store-migrate': needsService(async (ctx) => {
    const choice = storeChoice(ctx.app.config.current);
    if (choice.kind !== 'postgresql') return ctx.error(msg.storeNotConfigured);
    const r = await ctx.app.userStore.migrate(choice.target);
    if (!r.ok) return ctx.error(msg.migrateDifferent(`${r.different.slice(0, 5).join(', ')}${r.different.length > 5 ? ', …' : ''}`, r.different.length));
    ctx.app.log.info('2fa-store-migrated', { copied: r.copied, identical: r.identical, by: ctx.session.user });
    ctx.out.line(msg.migrated(r.copied, r.identical));
  }),

  '2fa.create-user': needsService(async (ctx) => {
    const name = arg.str(ctx, 'name');
    const user = ctx.args['skip-2fa']
      ? await ctx.app.twofa.createUser(name, { skip: true })
      : await ctx.app.twofa.createUser(name, { secret: arg.opt<string>(ctx, 'secret'), hotp: ctx.args['hotp'] === true });
    ctx.out.line(msg.twofaCreated(name, user.kind === 'skip' ? 'skip-2fa' : user.kind.toUpperCase()));
    const url = urlOf(ctx, user);
    const { head, scratch } = formatCreated(user, url);
    ctx.out.lines(head);
    printQr(ctx, url);
    ctx.out.lines(scratch);
  }),
  '2fa.delete-user': needsService((ctx) => ctx.app.twofa.deleteUser(arg.str(ctx, 'name'))),
  '2fa.reset-scratch': needsService(async (ctx) => {
    const codes = await ctx.app.twofa.resetScratch(arg.str(ctx, 'name'));
    ctx.out.lines([msg.newScratchCodes, ...codes.map((c) => `  ${c}`)]);
  }),
  '2fa.reset-skew': needsService((ctx) => ctx.app.twofa.resetSkew(arg.str(ctx, 'name'))),
  '2fa.clear-lockout': needsService(async (ctx) => {
    const name = arg.str(ctx, 'name');
    // The self-registration page also locks out names that have no 2FA record yet (in memory).
    if (ctx.app.registration.clearLockout(name, ctx.session.user) && !(await ctx.app.twofa.get(name))) return;
    await ctx.app.twofa.clearLockout(name, ctx.session.user);
  }),
  '2fa.user-email': needsService((ctx) => ctx.app.twofa.setEmail(arg.str(ctx, 'name'), ctx.no ? undefined : arg.str(ctx, 'address'))),
  // AW+ manual 機器交換前の作業: the password is asked twice, without echo; the file name is chosen here.
  '2fa.export': needsService(async (ctx) => {
    const password = await ctx.session.ask(msg.exportPassword, { secret: true });
    if (!password) return ctx.error(msg.passwordEmpty);
    if ([...password].length < MIN_EXPORT_PASSWORD) return ctx.error(msg.passwordShort(MIN_EXPORT_PASSWORD));
    const again = await ctx.session.ask(msg.exportPasswordAgain, { secret: true });
    if (again !== password) return ctx.error(msg.passwordsDiffer);
    const { file, users } = await ctx.app.twofa.exportToFlash(password);
    ctx.out.line(msg.exported(users, file));
  }),
  // AW+ manual 機器交換後の作業: only while the service is off; merge unless `replace`.
  '2fa.import': async (ctx) => {
    if (ctx.app.config.current.twofa.enabled) ctx.error(msg.importWhileEnabled);
    ctx.out.line(msg.copying);
    ctx.out.flush();
    let file: Buffer;
    try {
      file = await ctx.app.twofa.fetchUserData(arg.str(ctx, 'url'), ctx.signal);
    } catch (e) {
      if (ctx.signal.aborted) return ctx.error(msg.interrupted);
      if (e instanceof SourceError) return ctx.error(msg.importCopyFailed(e.message));
      throw e;
    }
    ctx.out.line(msg.copied);
    const password = await ctx.session.ask(msg.exportPassword, { secret: true });
    let count: number;
    try {
      count = await ctx.app.twofa.importUserData(file, password ?? '', ctx.args['replace'] === true);
    } catch (e) {
      if (e instanceof StoreUnavailableError) return ctx.error(msg.storeUnavailable(e.message));
      if (!(e instanceof UserDataError)) throw e;
      const text = { version: msg.importVersion(e.message), 'not-user-data': msg.importNotUserData, 'too-costly': msg.importTooCostly, 'password-or-damaged': msg.importBadPassword };
      return ctx.error(text[e.kind]);
    }
    ctx.out.line(msg.imported(count));
  },
  '2fa.show': needsService(async (ctx) => {
    const cfg = ctx.app.config.current;
    // Shown while the store is away too: that is when the operator looks.
    const users = await ctx.app.twofa.list().catch((e: unknown) => {
      if (e instanceof StoreUnavailableError) return undefined;
      throw e;
    });
    const store = formatStore(await ctx.app.userStore.status(), storeChoice(cfg), zoneOf(cfg));
    ctx.out.lines(formatSettings(cfg.twofa, twofaSettings(cfg), users, ctx.app.twofa.counters, ctx.app.twofa.email?.counters, store));
  }),
  '2fa.show-users': needsService(async (ctx) => ctx.out.lines(formatUsers(await ctx.app.twofa.list(), ctx.app.clock.now()))),
  '2fa.show-user': needsService(async (ctx) => {
    const name = arg.str(ctx, 'name');
    const user = await ctx.app.twofa.get(name);
    if (!user) return ctx.error(msg.twofaNoSuchUser(name));
    const url = urlOf(ctx, user);
    ctx.out.lines(formatUser(user, url, ctx.app.clock.now(), zoneOf(ctx.app.config.current)));
    if (user.kind === 'totp' || user.kind === 'hotp') printQr(ctx, url);
  }),
} satisfies Handlers;
