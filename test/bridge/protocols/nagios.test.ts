import {
  commandLine,
  icingaCheckResult,
  nrdpRequest,
  parseNrdpResponse,
  perfdataEntry,
  ServiceState,
  serviceState,
  type PassiveResult,
} from '../../../src/bridge/protocols/nagios';

const result: PassiveResult = {
  host: 'web-1',
  service: 'DiskFull',
  state: ServiceState.CRITICAL,
  output: 'CRITICAL - disk / is 95% full',
  perfdata: ['value=95.2'],
  time: 1700000000,
};

describe('passive check results', () => {
  it('maps resolved to OK, critical to CRITICAL and other severities to WARNING', () => {
    expect(serviceState('resolved', 'critical')).toBe(ServiceState.OK);
    expect(serviceState('firing', 'critical')).toBe(ServiceState.CRITICAL);
    expect(serviceState('firing', 'warning')).toBe(ServiceState.WARNING);
    expect(serviceState('firing', undefined)).toBe(ServiceState.WARNING);
  });

  it('writes perfdata with quoted labels and drops values that are not numbers', () => {
    expect(perfdataEntry('value', 95.2)).toBe('value=95.2');
    expect(perfdataEntry('disk used', 1)).toBe("'disk used'=1");
    expect(perfdataEntry('value', NaN)).toBeUndefined();
  });

  it('writes one PROCESS_SERVICE_CHECK_RESULT line', () => {
    expect(commandLine(result)).toBe(
      '[1700000000] PROCESS_SERVICE_CHECK_RESULT;web-1;DiskFull;2;CRITICAL - disk / is 95% full|value=95.2\n',
    );
  });

  it('keeps hostile label values from adding fields, perfdata or commands', () => {
    const line = commandLine({
      ...result,
      host: 'web-1;evil',
      output: 'x|fake=1\n[1] PROCESS_SERVICE_CHECK_RESULT;other;svc;0;OK',
    });
    expect(line.split('\n')).toHaveLength(2);
    expect(line).toBe(
      '[1700000000] PROCESS_SERVICE_CHECK_RESULT;web-1,evil;DiskFull;2;x/fake=1 [1] PROCESS_SERVICE_CHECK_RESULT;other;svc;0;OK|value=95.2\n',
    );
    expect(line.split('|')).toHaveLength(2);
  });
});

describe('NRDP', () => {
  it('posts cmd=submitcheck with the token and JSON check results', () => {
    const body = nrdpRequest([result], 's3cret');
    expect(body.get('cmd')).toBe('submitcheck');
    expect(body.get('token')).toBe('s3cret');
    expect(JSON.parse(body.get('JSONDATA')!)).toEqual({
      checkresults: [
        {
          checkresult: { type: 'service', checktype: '1' },
          hostname: 'web-1',
          servicename: 'DiskFull',
          state: '2',
          output: 'CRITICAL - disk / is 95% full|value=95.2',
        },
      ],
    });
  });

  it('reads success and failure from the body, as NRDP answers 200 to both', () => {
    expect(
      parseNrdpResponse('{"result":{"status":0,"message":"OK","meta":{"output":"1 checks processed"}}}'),
    ).toBe('OK: 1 checks processed');
    expect(() => parseNrdpResponse('{"result":{"status":-1,"message":"BAD TOKEN"}}')).toThrow(
      'NRDP refused the results: BAD TOKEN',
    );
    expect(() =>
      parseNrdpResponse(
        '<?xml version="1.0"?>\n<result>\n  <status>-1</status>\n  <message>NO DATA</message>\n</result>',
      ),
    ).toThrow('NRDP refused the results: NO DATA');
    expect(() => parseNrdpResponse('<html>502 Bad Gateway</html>')).toThrow(/without a status/);
  });
});

describe('Icinga 2 process-check-result', () => {
  it('names the service by its object name, never as a filter expression labels could extend', () => {
    const body = JSON.parse(icingaCheckResult({ ...result, host: 'web-1" || true || "' }));
    expect(body).toEqual({
      type: 'Service',
      service: 'web-1" || true || "!DiskFull',
      exit_status: 2,
      plugin_output: 'CRITICAL - disk / is 95% full',
      performance_data: ['value=95.2'],
    });
  });
});
