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
  /** Messages accepted (250 sent), counted before they are parsed. */
  accepted(): number;
  /** The last message as sent, when not parsing (for benchmarks, where parsing would take CPU time). */
  lastRaw(): string;
  /** Parsed messages, in order of parsing. */
  mails: ReceivedMail[];
  stop(): Promise<void>;
}

/**
 * A real SMTP server in-process (smtp-server, with its built-in self-signed certificate for
 * STARTTLS), parsing every accepted message with mailparser.
 */
export async function startSmtpSink(
  port: number,
  options: {
    auth?: { user: string; pass: string };
    starttls?: boolean;
    parse?: boolean;
    /** Recipients answered 550 (a permanent failure). */
    rejectRecipients?: RegExp;
    /** Implicit TLS (SMTPS, as on port 465) instead of plain text with STARTTLS. */
    implicitTls?: boolean;
  } = {},
): Promise<SmtpSink> {
  const mails: ReceivedMail[] = [];
  let accepted = 0;
  let lastRaw = '';
  const server = new SMTPServer({
    logger: false,
    secure: options.implicitTls === true,
    // Its reverse DNS lookup of 127.0.0.1 would be timed as part of delivery.
    disableReverseLookup: true,
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
    onRcptTo(address, _session, callback) {
      if (options.rejectRecipients?.test(address.address)) {
        const err = new Error(
          `5.1.1 <${address.address}>: Recipient address rejected: User unknown`,
        ) as Error & {
          responseCode: number;
        };
        err.responseCode = 550;
        callback(err);
      } else {
        callback();
      }
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        // Accept first, parse after: the parsing is this test server's cost, not the sender's.
        const raw = Buffer.concat(chunks).toString('utf8');
        const meta = {
          raw,
          secure: session.secure,
          user: typeof session.user === 'string' ? session.user : undefined,
          envelopeTo: session.envelope.rcptTo.map((r) => r.address),
        };
        accepted++;
        callback();
        if (options.parse !== false) {
          void simpleParser(raw, { keepCidLinks: true }).then((parsed) => mails.push({ parsed, ...meta }));
        } else {
          lastRaw = raw;
        }
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port,
    accepted: () => accepted,
    lastRaw: () => lastRaw,
    mails,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
