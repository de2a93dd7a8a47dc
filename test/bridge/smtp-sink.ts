import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  parsed: ParsedMail;
  raw: string;
  /** Whether the session was TLS (STARTTLS) and who authenticated. */
  secure: boolean;
  user?: string;
  envelopeTo: string[];
}

export interface SmtpSink {
  port: number;
  mails: ReceivedMail[];
  stop(): Promise<void>;
}

/**
 * A real SMTP server in-process (smtp-server, with its built-in self-signed certificate for
 * STARTTLS), parsing every accepted message with mailparser.
 */
export async function startSmtpSink(
  port: number,
  options: { auth?: { user: string; pass: string }; starttls?: boolean } = {},
): Promise<SmtpSink> {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    logger: false,
    allowInsecureAuth: true,
    disabledCommands: options.starttls === false ? ['STARTTLS'] : [],
    authOptional: options.auth === undefined,
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) {
        callback(null, { user: auth.username });
      } else {
        callback(new Error('Invalid username or password'));
      }
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw, { keepCidLinks: true })
          .then((parsed) => {
            mails.push({
              parsed,
              raw,
              secure: session.secure,
              user: typeof session.user === 'string' ? session.user : undefined,
              envelopeTo: session.envelope.rcptTo.map((r) => r.address),
            });
            callback();
          })
          .catch(callback);
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port,
    mails,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
