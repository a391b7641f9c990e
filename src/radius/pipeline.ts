/**
 * The RADIUS request path as one ordered table (aesthetics.md §8; FreeRADIUS's authorize/authenticate
 * sections, Go layeh Handler). Each step looks at the request, may add what it learned, and says
 * continue, reply or drop (step.ts). The login decision itself is transport-neutral (auth/login.ts).
 */
import type { Step } from './step.ts';
import { accessRequestsOnly } from './steps/access-requests-only.ts';
import { accountingRequestsOnly } from './steps/accounting-requests-only.ts';
import { accountingResponse } from './steps/accounting-response.ts';
import { decide } from './steps/decide.ts';
import { duplicates } from './steps/duplicates.ts';
import { identifyClient } from './steps/identify-client.ts';
import { messageAuthenticator } from './steps/message-authenticator.ts';
import { parse } from './steps/parse.ts';
import { recordAccounting } from './steps/record-accounting.ts';
import { reply } from './steps/reply.ts';
import { requestAuthenticator } from './steps/request-authenticator.ts';
import { shareDecision } from './steps/shared-duplicates.ts';
import { accountingStatusServer, authenticationStatusServer } from './steps/status-server.ts';
import { userPassword } from './steps/user-password.ts';

/**
 * The order of the request path. The four login kinds (first factor only, code only, challenge
 * answer, password and code) are decided in `decide`, by auth/login.ts.
 */
export type Pipeline = readonly (readonly [name: string, step: Step])[];

export const PIPELINE: Pipeline = [
  ['identify client', identifyClient], //   unknown source addresses are dropped (RFC 2865 §3)
  ['parse', parse], //                      malformed framing is dropped (RFC 2865 §3)
  ['status server', authenticationStatusServer], // RFC 5997: with a valid Message-Authenticator, answered Access-Accept at once
  ['access requests only', accessRequestsOnly], // accounting and the rest are not served here
  ['message authenticator', messageAuthenticator], // checked wherever present, required where the NAS says (RFC 3579 §3.2; BlastRADIUS)
  ['duplicates', duplicates], //            a retransmission gets the cached reply, never a second evaluation (RFC 5080 §2.2.2)
  ['user password', userPassword], //       un-hidden (RFC 2865 §5.2)
  ['decide', decide], //                    auth/login.ts: second factor first, then the first factor
  ['share decision', shareDecision], //     several appliances: recorded before the answer leaves, for a NAS that retries elsewhere
  ['reply', reply], //                      Message-Authenticator first, Proxy-State echoed in order (RFC 2865 §5.33); too large: dropped (§3)
];

/**
 * The accounting port (`server acct-port`, RFC 2866): the same NAS table and duplicate detection, the
 * request's own authenticator instead of a Message-Authenticator, and no decision: the request is
 * recorded, then acknowledged.
 */
export const ACCOUNTING_PIPELINE: Pipeline = [
  ['identify client', identifyClient], //   unknown source addresses are dropped, as on the authentication port
  ['parse', parse], //                      malformed framing is dropped
  ['status server', accountingStatusServer], // RFC 5997: with a valid Message-Authenticator, answered Accounting-Response at once
  ['accounting requests only', accountingRequestsOnly], // Access-Requests belong on the authentication port
  ['request authenticator', requestAuthenticator], // MD5 over the packet and the secret (RFC 2866 §3)
  ['duplicates', duplicates], //            a retransmission gets the cached response, never a second record (RFC 5080 §2.2.2)
  ['record', recordAccounting], //          the audit log's radius-accounting event (RFC 2866 §4.1: recorded, then answered)
  ['accounting response', accountingResponse], // Proxy-State echoed in order
];
