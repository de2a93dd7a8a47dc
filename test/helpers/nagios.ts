import fs from 'node:fs';
import path from 'node:path';
import { startProcess, type StartedProcess } from './process';
import { tempDir } from './tmp';
import { waitFor } from './wait';

export interface PassiveService {
  host: string;
  service: string;
}

export interface StartedNagios {
  /** The external command file (a FIFO Nagios reads). */
  commandFile: string;
  /** Directory Nagios reaps check result files from (where NRDP drops results). */
  checkResultDir: string;
  /** The service's block of status.dat as key/value pairs, or undefined before it is written. */
  serviceStatus(host: string, service: string): Record<string, string> | undefined;
  stop(): Promise<void>;
}

/**
 * Debian's nagios4 on a minimal config in a temp dir: the given hosts and services accept passive
 * results only, external commands are read from a command file, status.dat is written every second.
 */
export async function startNagios(services: PassiveService[]): Promise<StartedNagios> {
  const dir = tempDir('vigil-nagios-');
  const file = (name: string): string => path.join(dir.path, name);
  fs.mkdirSync(file('rw'));
  fs.mkdirSync(file('checkresults'));
  const user = process.getuid?.() === 0 ? 'root' : (process.env.USER ?? 'nobody');
  fs.writeFileSync(
    file('nagios.cfg'),
    [
      `log_file=${file('nagios.log')}`,
      `cfg_file=${file('objects.cfg')}`,
      `object_cache_file=${file('objects.cache')}`,
      `precached_object_file=${file('objects.precache')}`,
      `status_file=${file('status.dat')}`,
      'status_update_interval=1',
      `nagios_user=${user}`,
      `nagios_group=${user}`,
      'check_external_commands=1',
      `command_file=${file('rw/nagios.cmd')}`,
      `lock_file=${file('nagios.pid')}`,
      `temp_file=${file('nagios.tmp')}`,
      `temp_path=${dir.path}`,
      `check_result_path=${file('checkresults')}`,
      'check_result_reaper_frequency=1',
      'check_workers=1',
      `state_retention_file=${file('retention.dat')}`,
      'retain_state_information=0',
      'use_syslog=0',
      'log_passive_checks=1',
      'execute_service_checks=0',
      'execute_host_checks=0',
      'accept_passive_service_checks=1',
      'accept_passive_host_checks=1',
      'enable_notifications=0',
      'enable_event_handlers=0',
      'check_for_updates=0',
      '',
    ].join('\n'),
  );
  const hosts = [...new Set(services.map((s) => s.host))];
  fs.writeFileSync(
    file('objects.cfg'),
    [
      'define command {\n  command_name passive-only\n  command_line /bin/true\n}',
      `define timeperiod {\n  timeperiod_name always\n  alias always\n${['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'].map((d) => `  ${d} 00:00-24:00`).join('\n')}\n}`,
      'define contact {\n  contact_name nobody\n  host_notifications_enabled 0\n  service_notifications_enabled 0\n  host_notification_period always\n  service_notification_period always\n  host_notification_options n\n  service_notification_options n\n  host_notification_commands passive-only\n  service_notification_commands passive-only\n}',
      ...hosts.map(
        (host) =>
          `define host {\n  host_name ${host}\n  address 127.0.0.1\n  check_command passive-only\n  max_check_attempts 1\n  check_period always\n  contacts nobody\n  notification_period always\n  active_checks_enabled 0\n  passive_checks_enabled 1\n}`,
      ),
      ...services.map(
        (s) =>
          `define service {\n  host_name ${s.host}\n  service_description ${s.service}\n  check_command passive-only\n  max_check_attempts 1\n  check_interval 1\n  retry_interval 1\n  check_period always\n  contacts nobody\n  notification_period always\n  active_checks_enabled 0\n  passive_checks_enabled 1\n}`,
      ),
      '',
    ].join('\n'),
  );
  const proc: StartedProcess = startProcess('nagios4', [file('nagios.cfg')]);
  const stop = async (): Promise<void> => {
    await proc.stop();
    dir.remove();
  };
  try {
    await waitFor(
      () => {
        if (proc.child.exitCode !== null) throw new Error(`nagios4 exited: ${proc.output().slice(-2000)}`);
        return fs.existsSync(file('rw/nagios.cmd')) && fs.existsSync(file('status.dat'));
      },
      { what: 'nagios4 command file and status.dat' },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    commandFile: file('rw/nagios.cmd'),
    checkResultDir: file('checkresults'),
    serviceStatus(host, service) {
      const text = fs.existsSync(file('status.dat')) ? fs.readFileSync(file('status.dat'), 'utf8') : '';
      for (const block of text.matchAll(/servicestatus \{\n([\s\S]*?)\n\s*\}/g)) {
        const fields = Object.fromEntries(
          block[1]!.split('\n').map((line) => {
            const at = line.indexOf('=');
            return [line.slice(0, at).trim(), line.slice(at + 1)];
          }),
        );
        if (fields.host_name === host && fields.service_description === service) return fields;
      }
      return undefined;
    },
    stop,
  };
}
