import { createHash } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import { tlsConnectOptions } from '../../common/tls';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import type { Attachment } from 'nodemailer/lib/mailer';
import { z } from 'zod';
import { channelSchema } from '../../config/bridge';
import { duration, port, tlsClientSchema } from '../../config/types';
import { loadTemplates, templateParts, type Templates } from '../render/templates';
import {
  defineChannel,
  DeliveryError,
  messageView,
  type ChannelContext,
  type DeliveryReceipt,
  type Notifier,
  type OutgoingMessage,
} from './channel';

export const emailSchema = channelSchema(
  'email',
  { templates: templateParts('email'), rateLimit: { per_second: 0, burst: 1 } },
  {
    from: z.string().min(3),
    to: z.array(z.string().min(3)).min(1, 'expected at least one recipient'),
    cc: z.array(z.string().min(3)).default([]),
    smtp: z
      .object({
        host: z.string().default('localhost'),
        port: port().default(587),
        /** Implicit TLS (port 465). Otherwise STARTTLS is used when the server offers it. */
        secure: z.boolean().default(false),
        /** Refuse to send unless STARTTLS succeeds. */
        require_tls: z.boolean().default(false),
        username: z.string().optional(),
        password: z.string().optional(),
        /** Name sent in EHLO; default: the host name. */
        hello: z.string().optional(),
        timeout: duration().default(30_000),
        tls: tlsClientSchema.prefault({}),
      })
      .strict()
      .prefault({}),
    /** Attach the plotted data of each graph as CSV. */
    attach_csv: z.boolean().default(true),
  },
);

export type EmailChannelConfig = z.infer<typeof emailSchema>;

export const email = defineChannel({
  type: 'email',
  schema: emailSchema,
  create: (config, context) => new EmailChannel(config, context),
  offThread: true,
});

/**
 * E-mail over SMTP (nodemailer): implicit TLS or STARTTLS, optional auth. HTML and text parts, each
 * graph inline by cid, the plotted data as CSV attachments. All mails about one alert group thread
 * together (References/In-Reply-To), so the resolved mail lands under the firing one.
 */
export class EmailChannel implements Notifier {
  private readonly transport: Transporter<SMTPPool.SentMessageInfo>;
  private readonly templates: Templates<'email'>;
  private readonly domain: string;

  constructor(
    private readonly config: EmailChannelConfig,
    private readonly options: ChannelContext,
  ) {
    this.templates = loadTemplates('email', config.templates, `${options.where}.templates`);
    this.domain = /@([^>\s]+)>?\s*$/.exec(config.from)?.[1] ?? 'vigil.invalid';
    const smtp = config.smtp;
    // Pooled: a new SMTP connection costs a greeting delay (100 ms at smtp-server, more at MTAs that
    // guard against early talkers); a burst of notifications reuses a few open connections instead.
    this.transport = nodemailer.createTransport({
      pool: true,
      maxConnections: 3,
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      requireTLS: smtp.require_tls,
      name: smtp.hello,
      auth: smtp.username !== undefined ? { user: smtp.username, pass: smtp.password ?? '' } : undefined,
      connectionTimeout: smtp.timeout,
      greetingTimeout: smtp.timeout,
      socketTimeout: smtp.timeout,
      tls: tlsConnectOptions(smtp.tls),
    });
  }

  async send(message: OutgoingMessage): Promise<DeliveryReceipt> {
    const enriched = message.notification;
    const n = enriched.notification;
    const cid = (i: number): string => `graph-${i + 1}.${message.id}@vigil`;
    const view = messageView(message, this.config, this.options, { cid, attachCsv: this.config.attach_csv });
    const attachments: Attachment[] = [];
    enriched.alerts.forEach((evidence, i) => {
      const graph = evidence.graph;
      if (graph === undefined) return;
      attachments.push({
        filename: `graph-${i + 1}.png`,
        // Streamed from the graph store while the message is sent.
        path: graph.file,
        contentType: 'image/png',
        cid: cid(i),
        contentDisposition: 'inline',
      });
      if (this.config.attach_csv) {
        attachments.push({
          filename: graph.csvName,
          // Streamed from the graph store, like the PNG.
          path: graph.csvFile,
          contentType: 'text/csv; charset=utf-8',
        });
      }
    });
    const thread = `<${this.threadKey(
      n.groupKey,
      n.alerts.map((a) => a.startsAt),
    )}@${this.domain}>`;
    try {
      const info = await this.transport.sendMail({
        from: this.config.from,
        to: this.config.to,
        cc: this.config.cc.length > 0 ? this.config.cc : undefined,
        subject: this.templates.render('subject', view),
        text: this.templates.render('text', view),
        html: this.templates.render('html', view),
        attachments,
        messageId: `<${message.id}.${this.config.name}@${this.domain}>`,
        // Every mail of the group refers to one thread id; the resolved one replies to it.
        references: thread,
        inReplyTo: n.status === 'resolved' ? thread : undefined,
        headers: { 'X-Vigil-Status': n.status, 'X-Vigil-Route': message.route },
      });
      return { detail: info.response };
    } catch (err) {
      throw smtpError(err);
    }
  }

  /** The same group and alert start give the same id, whoever sends it and however often. */
  private threadKey(groupKey: string, starts: number[]): string {
    const first = Math.min(...starts);
    return `thread.${createHash('sha256').update(`${this.config.name}\n${groupKey}\n${first}`).digest('hex').slice(0, 24)}`;
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

/** 5xx replies about the message or recipients are permanent; auth, connection and 4xx are retried. */
function smtpError(err: unknown): DeliveryError {
  const e = err as { responseCode?: number; code?: string; message?: string; response?: string };
  const code = e.responseCode;
  const text = (e.response ?? e.message ?? String(err)).split('\n')[0];
  const permanent = code !== undefined && code >= 500 && code < 600 && ![530, 534, 535].includes(code);
  const what = code !== undefined ? `SMTP ${code}` : `SMTP ${e.code ?? 'error'}`;
  return new DeliveryError(`${what}: ${text}`, permanent);
}
