// The container's HEALTHCHECK: GET /-/healthy of the service this container runs.
// The service and its --listen come from the command line of PID 1 (tini -- node cli.js <service> ...);
// VIGIL_HEALTHCHECK_URL overrides them (set it when the port comes from the config file, or for TLS).
'use strict';
const fs = require('node:fs');

const DEFAULT_PORTS = { exporter: 9110, detector: 9111, bridge: 9112, all: 9110 };

/** The URL to probe, from the arguments that follow cli.js and the environment. */
function healthUrl(args, env) {
  if (env.VIGIL_HEALTHCHECK_URL) return env.VIGIL_HEALTHCHECK_URL;
  const service = args.find((arg) => !arg.startsWith('-'));
  let port = DEFAULT_PORTS[service] ?? DEFAULT_PORTS.all;
  let host = '127.0.0.1';
  for (let i = 0; i < args.length; i++) {
    const listen =
      args[i] === '--listen' ? args[i + 1] : args[i].startsWith('--listen=') ? args[i].slice(9) : undefined;
    const match = listen === undefined ? null : /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(listen);
    if (match) {
      port = Number(match[3]);
      const bound = match[1] ?? match[2];
      // Every interface (empty, 0.0.0.0, ::) answers on loopback; a specific address only on itself.
      if (bound && bound !== '0.0.0.0' && bound !== '::') host = bound.includes(':') ? `[${bound}]` : bound;
    }
  }
  return `http://${host}:${port}/-/healthy`;
}

/** Arguments after the script (cli.js) in a NUL-separated /proc/<pid>/cmdline. */
function serviceArgs(cmdline) {
  const words = cmdline.split('\0').filter((word) => word !== '');
  const script = words.findIndex((word) => word.endsWith('cli.js'));
  return script === -1 ? [] : words.slice(script + 1);
}

async function main() {
  const url = healthUrl(serviceArgs(fs.readFileSync('/proc/1/cmdline', 'utf8')), process.env);
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(4000) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    process.stdout.write(`${url}: ok\n`);
  } catch (err) {
    process.stdout.write(`${url}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}

module.exports = { healthUrl, serviceArgs };
if (require.main === module) void main();
