/**
 * Every user-visible CLI string, with where its wording comes from. Tags: [FOUND Sx] quoted from a
 * source in shared/research/awplus-spec.md §9, [INFERRED] IOS-compatible wording consistent with AW+
 * evidence, [OURS] our own wording where AW+ is unknown (SPEC: "the form below is ours; keep it").
 */
export const msg = {
  // Parser errors — awplus-spec.md §4.3 [INFERRED, consistent with S12 regexes]
  invalidInput: "% Invalid input detected at '^' marker.",
  incomplete: '% Incomplete command.',
  ambiguous: (text: string) => `% Ambiguous command:  "${text}"`,
  internalError: (detail: string) => `% Internal error: ${detail}`, // [OURS]
  interrupted: '% Interrupted; nothing was changed', // [OURS] Ctrl-C while a command waits

  // Modes — awplus-spec.md §4.1 [FOUND S14]
  configBanner: 'Enter configuration commands, one per line.  End with CNTL/Z.',

  // Enable / login [INFERRED: IOS wording]
  passwordPrompt: 'Password: ',
  loginPrompt: (hostname: string) => `${hostname} login: `,
  loginIncorrect: 'Login incorrect',
  badEnablePassword: '% Bad passwords',
  passwordNotChecked: '% The password could not be checked now (too many waiting); try again', // [OURS]
  passwordNotHashed: '% The password could not be hashed now (too many waiting); try again', // [OURS]
  noEnablePassword: '% No enable password is set', // [OURS]

  // Saving — awplus-spec.md §4.4 design choice
  buildingConfig: 'Building configuration...',
  ok: '[OK]',

  // Files [OURS unless noted]
  fileNotFound: (name: string) => `% File ${name} does not exist`,
  fileInvalidName: (name: string) => `% Invalid file name: ${name}`,
  fileReadError: (name: string, why: string) => `% Cannot read ${name}: ${why}`,
  fileWriteError: (name: string, why: string) => `% Cannot write ${name}: ${why}`,
  startupErased: 'Deleting startup configuration...', // [OURS]
  rebootConfirm: 'reboot system? (y/n): ', // [FOUND S14]
  rebooting: 'Rebooting...', // [OURS]
  bootConfigSet: (name: string) => `Current boot config set to ${name}`, // [OURS]
  bootConfigMissing: (name: string) => `% Boot config file ${name} does not exist`, // [OURS]
  bootError: (file: string, line: number, text: string, error: string) =>
    `% Error in ${file} line ${line} "${text}": ${error.replace(/^% /, '')}`, // [OURS] issue #2 item 7

  // Users [OURS, AW+ rules from awplus-spec.md §4.7]
  passwordRequired: '% A password is required for a new user',
  passwordLength: '% Password must be 1 to 32 characters',
  badHash: '% Invalid encrypted password',
  reservedUser: (name: string) => `% User name ${name} is reserved`,
  noSuchUser: (name: string) => `% User ${name} does not exist`,
  lastAdmin: '% Cannot remove the last privilege 15 user',

  // Clock [OURS]
  badDate: '% Invalid date',

  // 2FA [OURS unless noted; SPEC §4 fixes the first one]
  twofaDisabled: '% The 2FA service is not enabled',
  twofaUserExists: (name: string) => `% 2FA user ${name} already exists`,
  twofaNoSuchUser: (name: string) => `% 2FA user ${name} does not exist`,
  twofaShortSecret: '% The secret must be at least 26 base32 characters (128 bits)',
  twofaBadSecret: '% The secret must be base32: letters A-Z and digits 2-7',
  twofaSkipUser: (name: string) => `% 2FA user ${name} is a skip-2fa user and has no codes`,
  twofaQrLinkWarning: '% Warning: this link sends the secret key to an external web site',
  twofaCreated: (name: string, kind: string) => `Created 2FA user ${name} (${kind})`,
  storeWriteFailed: (why: string) => `% Cannot save the change to the 2FA users: ${why}; nothing was changed`, // [OURS]
  newScratchCodes: 'New scratch codes (each can be used once):',
  // Export/import — AW+ manual 機器交換時のユーザー再登録手順 [FOUND] for the prompts and success lines.
  exportPassword: 'Enter security password: ',
  exportPasswordAgain: 'Re-enter password: ',
  exported: (n: number, file: string) => `Successfully exported 2FA user data (${n} users) to file ${file}`,
  copying: 'Copying...',
  copied: 'Successful operation',
  imported: (n: number) => `Successfully imported 2FA user data (${n} users).`,
  passwordsDiffer: '% The passwords do not match; nothing was exported', // [OURS]
  passwordEmpty: '% The password must not be empty', // [OURS]
  passwordShort: (n: number) => `% The password must be at least ${n} characters; nothing was exported`, // [OURS]
  tooLong: (what: string, n: number) => `% The ${what} must be at most ${n} characters`, // [OURS]
  importWhileEnabled: '% Disable the 2FA service (no service 2fa) before importing user data', // [OURS] manual Note
  importCopyFailed: (why: string) => `% Cannot copy the file: ${why}`, // [OURS]
  importNotUserData: '% The file is not 2FA user data, or it is truncated', // [OURS]
  importVersion: (v: string) => `% Unsupported 2FA user data file version ${v}`, // [OURS]
  importBadPassword: '% Wrong password, or the file is damaged; nothing was imported', // [OURS]
  importTooCostly: '% The file asks for a stronger key derivation than an export makes; nothing was imported', // [OURS] issue #17

  // The 2FA user store [OURS]
  storeBadUrl: (why: string) => `% Invalid PostgreSQL URL: ${why}`,
  storePasswordTwice: '% The password is given twice (in the URL and after "password"); give it once',
  storeAtReboot: '% The 2FA user store changes at the next reboot; copy the users into it first with "2fa store migrate"',
  storeEmbeddedAtReboot: '% The 2FA user store changes back to the embedded one at the next reboot',
  storeNotConfigured: '% No PostgreSQL store is configured (2fa store postgresql URL)',
  storeUnavailable: (why: string) => `% The 2FA user store is unavailable, nothing was changed: ${why}`,
  migrateDifferent: (names: string, count: number) => `% ${count} 2FA user${count === 1 ? '' : 's'} already in the PostgreSQL store with other data (${names}); nothing was copied`,
  migrated: (copied: number, identical: number) => `Copied ${copied} 2FA user${copied === 1 ? '' : 's'} into the PostgreSQL store (${identical} already there, the same)`,

  // Mail [OURS, the warning FOUND in the AW+ manual 電子メールを使用する場合]
  cannotDecrypt: '% Cannot decrypt the password: it was encrypted on another appliance; enter it again',
  emailOtpNotSecure: '% Email OTP has been enabled but the configuration is not secure. Mail configuration is not using TLS',
  templateMissing: (name: string) => `% Template file flash:/${name} does not exist`,
  templateInvalid: (why: string) => `% Invalid e-mail template: ${why}`,

  // SSH [OURS]
  sshCannotListen: (why: string) => `% Warning: the SSH server cannot listen: ${why}`,
  sshNotAllowed: (name: string) => `% User ${name} is not in the SSH allow list`,
  idleTimeout: '% Session closed: idle for longer than exec-timeout',
  idleTime: (s: number) => (s === 0 ? 'Never' : `${Math.floor(s / 60)} minutes${s % 60 ? ` ${s % 60} seconds` : ''}`),

  // awplus connect [OURS]
  connectFailed: (path: string, why: string) => `% Cannot connect to ${path}: ${why}`,
  noDaemon: 'no awplus daemon is running on this flash directory',

  // RADIUS and AAA [OURS]
  radiusCannotListen: (why: string) => `% Warning: the local RADIUS server cannot listen: ${why}`,
  radiusNoSuchHost: (address: string, port: number) => `% RADIUS server ${address} auth-port ${port} is not configured`,
  radiusNoSuchGroup: (name: string) => `% RADIUS server group ${name} does not exist`,
  radiusNoSuchNas: (address: string) => `% NAS ${address} is not configured`,
  radiusPortsClash: (port: number) => `% UDP port ${port} cannot take both authentication and accounting requests`,
  noSuchServerGroup: (name: string) => `% No RADIUS or LDAP server group is named ${name}`,

  // LDAP [OURS]
  ldapNoSuchServer: (name: string) => `% LDAP server ${name} does not exist`,
  ldapNoSuchGroup: (name: string) => `% LDAP server group ${name} does not exist`,
  ldapNotInGroup: (name: string) => `% LDAP server ${name} is not in this group`,
  ldapGroupNameTaken: (name: string) => `% ${name} is already a RADIUS server group; server group names are shared`,
  radiusGroupNameTaken: (name: string) => `% ${name} is already an LDAP server group; server group names are shared`,
  ldapGroupInUse: (name: string, method: string) => `% LDAP server group ${name} is used by aaa authentication ${method}; change that first`,
  ldapBadDn: (dn: string) => `% Invalid distinguished name: ${dn}`,
  ldapCaMissing: (name: string) => `% Certificate file flash:/${name} does not exist`,
  ldapCaInvalid: (name: string, why: string) => `% flash:/${name} is not a PEM certificate: ${why}`,

  // OpenVPN tunnels [OURS: no AW+ command reference was found for these commands]
  interfaceNotFound: (name: string) => `% Interface ${name} does not exist`,
  tunnelNotOpenvpn: (name: string) => `% ${name} is not an OpenVPN tunnel: set "tunnel mode openvpn tun" (or tap) first`,
  tunnelInvalid: (why: string) => `% ${why}`,
  tunnelNoSuchRoute: (name: string, route: string) => `% ${name} does not push route ${route}`,
  tunnelNotRunning: (name: string, why: string) => `% Warning: ${name} is not running: ${why}`,
  tunnelNotApplied: (why: string) => `% Warning: the OpenVPN server did not take the change: ${why}`,
  profileFailed: (why: string) => `% Cannot make the client profile: ${why}`,
  openvpnNoConnections: 'No OpenVPN clients are connected',
  openvpnNoConnection: (user: string) => `% User ${user} has no OpenVPN connection`,
  profileRemoteNote: (hostname: string) =>
    `The server address below is the hostname (${hostname}): if clients reach the appliance by another name or address, set it with "tunnel openvpn remote HOST"`,

  // The self-registration page [OURS]
  registrationCannotListen: (why: string) => `% Warning: the self-registration page cannot listen: ${why}`,
  registrationBadCertificate: (why: string) => `% The certificate cannot be used: ${why}`,
  registrationCertificateExpired: (when: string) => `% Warning: the certificate expired on ${when}; browsers will refuse it`,

  // Time and logs [OURS]
  clockSetByNtp: '% The clock is synchronized by NTP; remove the ntp server lines to set it by hand',
  timezoneInvalid: (why: string) => `% ${why}`,
  // `configured`: the entries of the same address, with their ports (`no ntp server A` names one exactly).
  ntpNoSuchServer: (server: string, configured = '') => `% NTP server ${server} is not configured${configured && `; configured: ${configured}`}`,
  logNoSuchHost: (host: string, configured = '') => `% Log host ${host} is not configured${configured && `; configured: ${configured}`}`,

  // Output modifiers [OURS]
  badRegex: (re: string) => `% Invalid regular expression: ${re}`,
  filterTooSlow: '% The output filter took too long and was stopped', // [OURS] issue #17: bounded filters
  filterFailed: (why: string) => `% The output filter failed: ${why}`, // [OURS]
} as const;
