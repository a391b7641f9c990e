/**
 * The self-registration page's view of the running config (VyOS get_config): open only while
 * `service 2fa` is on and a port is set (AW+ manual 基本設定 1: every 2FA function needs the service).
 */
import type { RunningConfig } from '../../config/model.ts';

export interface RegistrationPageSettings {
  readonly port: number;
  /** Flash names of an installed certificate and key; undefined = the self-signed certificate. */
  readonly certificate: { readonly cert: string; readonly key: string } | undefined;
  readonly hostname: string;
}

export function registrationPageSettings(cfg: Readonly<RunningConfig>): RegistrationPageSettings | undefined {
  const t = cfg.twofa;
  if (!t.enabled || t.registrationPort === undefined) return undefined;
  return { port: t.registrationPort, certificate: t.registrationCertificate, hostname: cfg.hostname };
}
