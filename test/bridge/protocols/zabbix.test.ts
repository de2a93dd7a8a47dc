import {
  decodeFrame,
  encodeSenderRequest,
  frame,
  historyPushRequest,
  parseHistoryPushResponse,
  parseSenderResponse,
} from '../../../src/bridge/protocols/zabbix';

const value = {
  host: 'web-1',
  key: 'vigil.alert[critical]',
  value: 'FIRING ab12 Disk: full',
  clock: 1700000000,
  ns: 5,
};

describe('Zabbix sender framing', () => {
  it('frames JSON as ZBXD, flag 1, little-endian length and 4 reserved bytes', () => {
    const framed = encodeSenderRequest([value], { clock: 1700000001, ns: 7 });
    expect(framed.subarray(0, 4).toString('ascii')).toBe('ZBXD');
    expect(framed[4]).toBe(0x01);
    const length = framed.readUInt32LE(5);
    expect(framed.readUInt32LE(9)).toBe(0);
    expect(framed.length).toBe(13 + length);
    expect(JSON.parse(framed.subarray(13).toString('utf8'))).toEqual({
      request: 'sender data',
      data: [value],
      clock: 1700000001,
      ns: 7,
    });
  });

  it('counts the length in bytes, not characters', () => {
    const framed = encodeSenderRequest([{ ...value, value: 'Überlast – 温度' }], { clock: 1, ns: 0 });
    expect(framed.readUInt32LE(5)).toBe(Buffer.byteLength(framed.subarray(13).toString('utf8')));
    expect(framed.readUInt32LE(5)).toBeGreaterThan(framed.subarray(13).toString('utf8').length);
  });

  it('decodes a frame only once all of it has arrived', () => {
    const framed = frame(Buffer.from('{"response":"success"}'));
    expect(decodeFrame(framed.subarray(0, 3))).toBeUndefined();
    expect(decodeFrame(framed.subarray(0, 12))).toBeUndefined();
    expect(decodeFrame(framed.subarray(0, framed.length - 1))).toBeUndefined();
    expect(decodeFrame(Buffer.concat([framed, Buffer.from('extra')]))).toEqual({
      json: '{"response":"success"}',
      bytes: framed.length,
    });
  });

  it('refuses what is not a Zabbix frame', () => {
    expect(() => decodeFrame(Buffer.from('HTTP/1.1 400 Bad Request\r\n'))).toThrow(/not a Zabbix answer/);
    const compressed = frame(Buffer.from('x'));
    compressed[4] = 0x03;
    expect(() => decodeFrame(compressed)).toThrow(/compressed/);
  });

  it('reads processed and failed from info: "success" is said even when every value failed', () => {
    expect(
      parseSenderResponse(
        '{"response":"success","info":"processed: 0; failed: 2; total: 2; seconds spent: 0.000055"}',
      ),
    ).toMatchObject({ processed: 0, failed: 2, total: 2 });
    expect(
      parseSenderResponse(
        '{"response":"success","info":"processed: 1; failed: 0; total: 1; seconds spent: 0.1"}',
      ),
    ).toMatchObject({ processed: 1, failed: 0 });
  });

  it('throws on a failed request, a non-JSON answer and an answer without counts', () => {
    expect(() => parseSenderResponse('{"response":"failed","info":"host is not allowed"}')).toThrow(
      /answered "failed": host is not allowed/,
    );
    expect(() => parseSenderResponse('ZBX_NOTSUPPORTED')).toThrow(/not JSON/);
    expect(() => parseSenderResponse('{"response":"success"}')).toThrow(/without counts/);
  });
});

describe('Zabbix history.push', () => {
  it('sends host, key, value, clock and ns per value', () => {
    expect(JSON.parse(historyPushRequest([value], 3))).toEqual({
      jsonrpc: '2.0',
      method: 'history.push',
      params: [value],
      id: 3,
    });
  });

  it('tells per value whether it was taken', () => {
    const answer = JSON.stringify({
      jsonrpc: '2.0',
      result: {
        response: 'success',
        data: [{ itemid: '10600' }, { itemid: '10601', error: 'Item is disabled.' }],
      },
      id: 1,
    });
    expect(parseHistoryPushResponse(answer, 2)).toEqual([
      { ok: true },
      { ok: false, error: 'Item is disabled.' },
    ]);
  });

  it('a JSON-RPC error is the whole call: permanent for ours, retried for the server failing', () => {
    const error = (code: number, data: string): string =>
      JSON.stringify({ jsonrpc: '2.0', error: { code, message: 'Invalid params.', data }, id: 1 });
    expect(() => parseHistoryPushResponse(error(-32602, 'Not authorized.'), 1)).toThrow(
      expect.objectContaining({ permanent: true, message: 'Zabbix API: Invalid params. Not authorized.' }),
    );
    expect(() => parseHistoryPushResponse(error(-32500, 'Connection to Zabbix server failed.'), 1)).toThrow(
      expect.objectContaining({ permanent: false }),
    );
    expect(() => parseHistoryPushResponse('{"result":{"data":[]}}', 1)).toThrow(/0 results for 1 values/);
  });
});
