import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

export interface MailingBridgeOptions {
  smtpPort: number;
  /** Where the bridge asks for graphs: a closed port makes Prometheus unreachable. */
  prometheusUrl: string;
  /** More keys of `bridge.prometheus` (timeout, retries). */
  prometheus?: Record<string, unknown>;
  /** More keys of the channel's `smtp` (timeout, ...). */
  smtp?: Record<string, unknown>;
  /** More keys of the `bridge:` section (retry, graph, ...). */
  bridge?: Record<string, unknown>;
}

/**
 * Writes `dir/vigil.yml` for a bridge mailing every notification through one e-mail channel to the
 * SMTP server at `smtpPort` (spool in `dir/spool`), and returns its path.
 */
export function writeMailingBridgeConfig(dir: string, options: MailingBridgeOptions): string {
  const file = path.join(dir, 'vigil.yml');
  fs.writeFileSync(
    file,
    YAML.stringify({
      bridge: {
        prometheus: { url: options.prometheusUrl, ...options.prometheus },
        spool_dir: path.join(dir, 'spool'),
        channels: [
          {
            name: 'mail',
            type: 'email',
            from: 'vigil@example.com',
            to: ['ops@example.com'],
            smtp: { host: '127.0.0.1', port: options.smtpPort, ...options.smtp },
          },
        ],
        ...options.bridge,
      },
    }),
  );
  return file;
}
