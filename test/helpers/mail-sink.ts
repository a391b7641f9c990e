/**
 * A real SMTP server (npm smtp-server) on 127.0.0.1 that keeps every mail it receives: plain SMTP
 * without STARTTLS or AUTH, for tests about the code in the mail rather than the mail transport
 * (test/e2e/email-otp.test.ts covers STARTTLS and AUTH PLAIN). Quoted-printable soft line breaks are
 * joined, so a code is found whole.
 */
import { SMTPServer } from 'smtp-server';

export interface MailSink {
  readonly port: number;
  readonly mails: { to: string; text: string }[];
  close(): Promise<void>;
}

export async function startMailSink(port = 0): Promise<MailSink> {
  const mails: { to: string; text: string }[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, done) {
      let text = '';
      stream.on('data', (d: Buffer) => (text += d));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo[0]!.address, text: text.replace(/=\r?\n/g, '') });
        done();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(port, '127.0.0.1', () => r()));
  return {
    port: (smtp.server.address() as { port: number }).port,
    mails,
    close: () => new Promise<void>((r) => smtp.close(() => r())),
  };
}
