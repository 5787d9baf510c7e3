import nodemailer, { type Transporter } from 'nodemailer';
import type { SubscribersConfig } from '../subscribers/config.js';

type NotifyConfig = SubscribersConfig['notify'];

/** Abuse notices go out over SMTP through nodemailer (pooled connection, STARTTLS when offered). */
export class NoticeMailer {
  private readonly transport: Transporter;

  constructor(private readonly cfg: NotifyConfig) {
    const s = cfg.smtp;
    this.transport = nodemailer.createTransport({
      host: s.host,
      port: s.port,
      secure: s.secure,
      ...(s.user ? { auth: { user: s.user, pass: s.pass ?? '' } } : {}),
      connectionTimeout: s.timeout_ms,
      greetingTimeout: s.timeout_ms,
      socketTimeout: s.timeout_ms,
      pool: true,
      maxConnections: 2,
    });
  }

  async send(m: {
    to: string;
    subject: string;
    text: string;
    reference: string;
  }): Promise<{ messageId: string | null }> {
    const info = (await this.transport.sendMail({
      from: { name: this.cfg.org, address: this.cfg.from },
      ...(this.cfg.reply_to ? { replyTo: this.cfg.reply_to } : {}),
      to: m.to,
      subject: m.subject,
      text: m.text,
      headers: { 'X-Downstream-Reference': m.reference, 'Auto-Submitted': 'auto-generated' },
    })) as { messageId?: string };
    return { messageId: info.messageId ?? null };
  }

  close(): void {
    this.transport.close();
  }
}
