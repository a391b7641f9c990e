/** The self-registration page (SPEC §8): what the composition root uses. */
export { DEFAULT_LIMITS, RegistrationServer, type RegistrationServerOptions } from './server.ts';
export type * from './types.ts';
