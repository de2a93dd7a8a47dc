import { readUserFile } from './files';

/** The TLS settings of an outgoing connection, as every client section of the configuration spells them. */
export interface TlsClientSettings {
  ca_file?: string;
  cert_file?: string;
  key_file?: string;
  server_name?: string;
  insecure_skip_verify: boolean;
}

/** What node:tls, https.Agent and nodemailer take: the files read once, verification on unless skipped. */
export interface TlsConnectOptions {
  ca?: string;
  cert?: string;
  key?: string;
  servername?: string;
  rejectUnauthorized: boolean;
}

/** The one place client TLS settings become connection options (SMTP, Prometheus, HTTP channels). */
export function tlsConnectOptions(tls: TlsClientSettings): TlsConnectOptions {
  return {
    ca: tls.ca_file === undefined ? undefined : readUserFile(tls.ca_file),
    cert: tls.cert_file === undefined ? undefined : readUserFile(tls.cert_file),
    key: tls.key_file === undefined ? undefined : readUserFile(tls.key_file),
    servername: tls.server_name,
    rejectUnauthorized: !tls.insecure_skip_verify,
  };
}
