/**
 * The page as the appliance runs it: the listener, its certificate, and the settings they follow.
 * Like the RADIUS and SSH listeners (util/listener.ts, whose reconciler it does not use: a new
 * certificate is swapped in on the open port) it is held while a startup config is applied
 * (so a config that moves the port never opens the old one first) and follows every later change
 * without a restart.
 */
import type { Clock } from '../util/clock.ts';
import type { Flash } from '../util/flash.ts';
import type { Log } from '../util/log.ts';
import { describeCertificate, type CertifiedKey } from '../util/x509.ts';
import { readCertifiedKey } from '../util/x509.ts';
import { selfSignedCertificate, type CertificateFiles } from './certificate.ts';
import { RegistrationServer } from './server.ts';
import type { RegistrationBackend, WebCounters, WebLimits, WebStatus } from './types.ts';

/** What the page is to do, from the running config; undefined = closed. */
export interface PageSettings {
  readonly port: number;
  /** An installed certificate; the self-signed one when undefined. */
  readonly certificate: CertificateFiles | undefined;
  /** The appliance's name, for a self-signed certificate made now. */
  readonly hostname: string;
}

/** The certificate the page serves (or would serve, while it cannot listen). */
export interface CertificateInfo {
  /** `self-signed`, or the installed certificate's `flash:/NAME`. */
  readonly source: string;
  readonly fingerprint: string;
  readonly notAfter: Date;
  readonly subject: string;
  readonly dnsNames: readonly string[];
}

export interface PageStatus extends WebStatus {
  readonly certificate: CertificateInfo | undefined;
  readonly counters: WebCounters;
}

export interface RegistrationServiceOptions {
  readonly backend: RegistrationBackend;
  readonly flash: Flash;
  readonly clock: Clock;
  readonly log: Log;
  readonly settings: () => PageSettings | undefined;
  readonly limits?: Partial<WebLimits>;
  /** Address to bind (tests: 127.0.0.1); all IPv4 addresses by default, as the SSH server. */
  readonly host?: string;
}

export class RegistrationService {
  readonly server: RegistrationServer;
  private held = false;
  private applying: Promise<unknown> = Promise.resolve();
  /** Why the certificate could not be loaded (the listener keeps what it had). */
  private certificateError: string | undefined;
  private certificate: CertificateInfo | undefined;

  constructor(private readonly o: RegistrationServiceOptions) {
    this.server = new RegistrationServer({ backend: o.backend, log: o.log, clock: o.clock, limits: o.limits });
  }

  /** While a startup config is applied nothing is opened; `release` is followed by `apply()`. */
  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
  }

  /**
   * Opens, moves, re-keys or closes the page as the settings say, reading the certificate files again
   * (a renewed certificate is served to new connections) and trying again a port that could not be had.
   * Resolves to an error text when the page cannot listen or its certificate cannot be used.
   */
  apply(): Promise<string | undefined> {
    if (this.held) return Promise.resolve(undefined);
    const run = this.applying.then(() => this.reconcile());
    this.applying = run.catch(() => undefined);
    return run;
  }

  status(): PageStatus {
    const s = this.server.status();
    return { ...s, error: this.certificateError ?? s.error, certificate: this.certificate, counters: this.server.counters() };
  }

  /** Closes the page (shutdown); requests in flight may finish first. */
  async stop(): Promise<void> {
    this.held = true;
    await this.applying;
    await this.server.close();
  }

  private async reconcile(): Promise<string | undefined> {
    const want = this.o.settings();
    this.certificateError = undefined;
    if (!want) {
      this.certificate = undefined;
      return this.server.apply(undefined);
    }
    let tls: CertifiedKey;
    try {
      tls = want.certificate
        ? readCertifiedKey(this.o.flash, want.certificate)
        : await selfSignedCertificate(this.o.flash, this.o.clock.now(), want.hostname, this.o.log);
    } catch (e) {
      this.certificateError = `the certificate cannot be used: ${(e as Error).message}`;
      this.o.log.error('web-certificate-refused', { error: this.certificateError });
      return this.certificateError;
    }
    const d = describeCertificate(tls.cert);
    this.certificate = { source: want.certificate ? `flash:/${want.certificate.cert}` : 'self-signed', ...d };
    return this.server.apply({ port: want.port, cert: tls.cert, key: tls.key, host: this.o.host });
  }
}
