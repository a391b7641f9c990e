/**
 * The typed running configuration: plain data, no CLI lines (FRR northbound). Each feature owns its
 * part; defaults live here, next to the field, so renderers can omit them in one place.
 * 2FA users are NOT here: AW+ keeps them outside the configuration (awplus-spec.md §1 [FOUND S3]).
 */

/** A local CLI account (`username NAME privilege N password 8 HASH`, awplus-spec.md §4.7 [FOUND S8]). */
export interface LocalUser {
  readonly name: string;
  readonly privilege: number;
  /** crypt(3) hash ($1$, $5$ or $6$). */
  readonly hash: string;
}

/** The whole running configuration. */
export interface RunningConfig {
  hostname: string;
  /** Insertion-ordered, as AW+ lists them. */
  users: Map<string, LocalUser>;
  /** `enable password 8 HASH`; undefined = none set. */
  enablePassword: string | undefined;
}

/** Default hostname (awplus-spec.md §4.1 [FOUND S14]). */
export const DEFAULT_HOSTNAME = 'awplus';

/** Factory account (awplus-spec.md §4.7 [INFERRED, well-known AW+ default]). */
export const FACTORY_USER = { name: 'manager', password: 'friend', privilege: 15 } as const;

/** Factory-default configuration; `hashPassword` is injected so tests and boot share one hasher. */
export function factoryConfig(hashPassword: (plain: string) => string): RunningConfig {
  return {
    hostname: DEFAULT_HOSTNAME,
    users: new Map([[FACTORY_USER.name, { name: FACTORY_USER.name, privilege: FACTORY_USER.privilege, hash: hashPassword(FACTORY_USER.password) }]]),
    enablePassword: undefined,
  };
}
