import { createHash } from 'node:crypto';
import fs from 'node:fs';
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import type { Attachment } from 'nodemailer/lib/mailer';
import type { EmailChannelConfig } from '../../config/bridge';
import { buildView } from '../render/message';
import { loadTemplates, type MessageTemplates } from '../render/templates';
import { DeliveryError, type Channel, type DeliveryReceipt, type OutgoingMessage } from './channel';

export interface EmailChannelOptions {
  /** Bridge time zone, unless the channel sets its own. */
  timeZone: string;
  /** Base URL of the bridge as people reach it (graph links, status page). */
  bridgeUrl?: string;
  now?: () => number;
}

/**
 * E-mail over SMTP (nodemailer): implicit TLS or STARTTLS, optional auth. HTML and text parts, each
 * graph inline by cid, the plotted data as CSV attachments. All mails about one alert group thread
 * together (References/In-Reply-To), so the resolved mail lands under the firing one.
 */
export class EmailChannel implements Channel {
  readonly type = 'email';
  readonly name: string;
  private readonly transport: Transporter<SMTPPool.SentMessageInfo>;
  private readonly templates: MessageTemplates;
  private readonly domain: string;

  constructor(
    private readonly config: EmailChannelConfig,
    private readonly options: EmailChannelOptions,
    where = `bridge.channels.${config.name}`,
  ) {
    this.name = config.name;
    this.templates = loadTemplates(config.templates, `${where}.templates`);
    this.domain = /@([^>\s]+)>?\s*$/.exec(config.from)?.[1] ?? 'vigil.invalid';
    const smtp = config.smtp;
    const tls = smtp.tls;
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
      tls: {
        ca: tls.ca_file ? fs.readFileSync(tls.ca_file) : undefined,
        cert: tls.cert_file ? fs.readFileSync(tls.cert_file) : undefined,
        key: tls.key_file ? fs.readFileSync(tls.key_file) : undefined,
        servername: tls.server_name,
        rejectUnauthorized: !tls.insecure_skip_verify,
      },
    });
  }

  async send(message: OutgoingMessage): Promise<DeliveryReceipt> {
    const enriched = message.notification;
    const n = enriched.notification;
    const timeZone = this.config.timezone ?? this.options.timeZone;
    const cid = (i: number): string => `graph-${i + 1}.${message.id}@vigil`;
    const view = buildView(enriched, {
      route: message.route,
      timeZone,
      now: (this.options.now ?? Date.now)(),
      bridgeUrl: this.options.bridgeUrl,
      cid,
      attachCsv: this.config.attach_csv,
    });
    const attachments: Attachment[] = [];
    enriched.alerts.forEach((evidence, i) => {
      const graph = evidence.graph;
      if (graph === undefined) return;
      attachments.push({
        filename: `graph-${i + 1}.png`,
        content: graph.png,
        contentType: 'image/png',
        cid: cid(i),
        contentDisposition: 'inline',
      });
      if (this.config.attach_csv) {
        attachments.push({
          filename: graph.csvName,
          content: graph.csv,
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
        subject: this.templates.subject(view),
        text: this.templates.text(view),
        html: this.templates.html(view),
        attachments,
        messageId: `<${message.id}.${this.name}@${this.domain}>`,
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
    return `thread.${createHash('sha256').update(`${this.name}\n${groupKey}\n${first}`).digest('hex').slice(0, 24)}`;
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
