/** The self-registration page (SPEC §8): what the composition root uses. */
export { DEFAULT_LIMITS, RegistrationServer, type RegistrationServerOptions } from './server.ts';
export { RegistrationService, type CertificateInfo, type PageSettings, type PageStatus, type RegistrationServiceOptions } from './service.ts';
export { SELF_SIGNED_CERT, SELF_SIGNED_KEY, type CertificateFiles } from './certificate.ts';
export type * from './types.ts';
