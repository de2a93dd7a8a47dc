import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';

export interface StartedNrdp {
  url: string;
  /** Every request's form fields, in order. */
  requests: URLSearchParams[];
  stop(): Promise<void>;
}

/**
 * A local NRDP server with NRDP 2.0's documented behaviour (server/index.php and the
 * nagioscorepassivecheck plugin): form fields `token`, `cmd` and `JSONDATA`; every answer HTTP 200,
 * failure only in the body (`{"result":{"status":-1,"message":"BAD TOKEN"}}`); each check result
 * written as a Nagios check result file (and its `.ok` marker) into `checkResultDir`, which Nagios
 * reaps. NRDP itself is PHP from Nagios Enterprises and is not packaged in Debian.
 */
export async function startNrdp(token: string, checkResultDir: string): Promise<StartedNrdp> {
  const requests: URLSearchParams[] = [];
  let files = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      requests.push(form);
      const answer = (result: Record<string, unknown>): void => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ result }));
      };
      const error = (message: string): void => answer({ status: -1, message });
      if (!form.get('token')) return error('NO TOKEN');
      if (form.get('token') !== token) return error('BAD TOKEN');
      if (!form.get('cmd')) return error('NO COMMAND');
      if (form.get('cmd') !== 'submitcheck') return error('NO REQUEST HANDLER');
      let data: { checkresults?: Array<Record<string, unknown>> };
      try {
        data = JSON.parse(form.get('JSONDATA') ?? '') as typeof data;
      } catch {
        return error('BAD JSON');
      }
      const results = data.checkresults ?? [];
      for (const result of results) {
        const type = (result.checkresult as { type?: string } | undefined)?.type ?? 'host';
        // Nagios reaps files named like tempnam(dir, "c") names them: c and six characters.
        const file = path.join(checkResultDir, `c${String(++files).padStart(6, '0')}`);
        const lines = [
          '### NRDP Check ###',
          `start_time=${Math.floor(Date.now() / 1000)}.0`,
          `host_name=${String(result.hostname)}`,
          ...(type === 'service' ? [`service_description=${String(result.servicename)}`] : []),
          'check_type=1',
          'early_timeout=0',
          'exited_ok=1',
          `return_code=${String(result.state)}`,
          `output=${String(result.output).replace(/\n/g, '\\n')}\\n`,
          '',
        ];
        fs.writeFileSync(file, lines.join('\n'));
        fs.writeFileSync(`${file}.ok`, '');
      }
      answer({ status: 0, message: 'OK', meta: { output: `${results.length} checks processed` } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/nrdp/`,
    requests,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
