/** A time zone's abbreviation and its offset from UTC, as a TZif file lists them. */
export interface ZoneName {
  readonly name: string;
  readonly offsetSeconds: number;
}

const HEADER_BYTES = 44;

/**
 * The abbreviations a TZif file (RFC 8536, /etc/localtime) gives its zone, most relevant first:
 * those of the rule for times after the last transition (the footer, version 2 and later), then
 * those of the transitions from the latest back, then any other of its local time types. Go's
 * time package, and so node_exporter's `time_zone` label, takes the name from the same file.
 * Undefined when the data is not TZif.
 */
export function parseTzif(data: Buffer): ZoneName[] | undefined {
  if (data.length < HEADER_BYTES || data.toString('latin1', 0, 4) !== 'TZif') return undefined;
  const version = data[4];
  let header = 0;
  let timeBytes = 4;
  if (version >= 0x32) {
    // Version 2+: skip the 32-bit block, read the 64-bit one that follows it, then the footer.
    header = HEADER_BYTES + blockBytes(data, 0, 4);
    timeBytes = 8;
    if (data.length < header + HEADER_BYTES || data.toString('latin1', header, header + 4) !== 'TZif') {
      return undefined;
    }
  }
  const count = (field: number): number => data.readUInt32BE(header + 20 + field * 4);
  const [timecnt, typecnt, charcnt] = [count(3), count(4), count(5)];
  const types = header + HEADER_BYTES + timecnt * timeBytes;
  const infos = types + timecnt;
  const chars = infos + typecnt * 6;
  if (chars + charcnt > data.length) return undefined;
  const typeName = (type: number): ZoneName => {
    const at = infos + type * 6;
    const start = chars + data[at + 5];
    const end = data.indexOf(0, start);
    return {
      name: data.toString('latin1', start, end < 0 || end > chars + charcnt ? chars + charcnt : end),
      offsetSeconds: data.readInt32BE(at),
    };
  };
  const names: ZoneName[] = [];
  if (version >= 0x32) names.push(...footerNames(data, blockEnd(data, header, timeBytes)));
  for (let i = timecnt - 1; i >= 0; i--) names.push(typeName(data[types + i]));
  for (let type = 0; type < typecnt; type++) names.push(typeName(type));
  return names;
}

/** The abbreviation for the current UTC offset, as `date +%Z` would print it. */
export function zoneNameAt(names: readonly ZoneName[], offsetSeconds: number): string | undefined {
  return names.find((zone) => zone.offsetSeconds === offsetSeconds)?.name;
}

/** Bytes of a data block after the header at `header`, with transition times of `timeBytes`. */
function blockBytes(data: Buffer, header: number, timeBytes: number): number {
  const count = (field: number): number => data.readUInt32BE(header + 20 + field * 4);
  const [isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt] = [0, 1, 2, 3, 4, 5].map(count);
  return (
    timecnt * timeBytes + timecnt + typecnt * 6 + charcnt + leapcnt * (timeBytes + 4) + isstdcnt + isutcnt
  );
}

function blockEnd(data: Buffer, header: number, timeBytes: number): number {
  return header + HEADER_BYTES + blockBytes(data, header, timeBytes);
}

// A POSIX TZ name is 3+ letters or <...> (e.g. <+03>); its offset is hh[:mm[:ss]], west positive.
const POSIX_ZONE = /^(?:([A-Za-z]{3,})|<([^>]+)>)([+-]?\d{1,2}(?::\d{2}){0,2})?/;

/** `CET-1CEST,M3.5.0,M10.5.0/3`: the standard and the daylight-saving name with their offsets. */
function footerNames(data: Buffer, at: number): ZoneName[] {
  if (data[at] !== 0x0a) return [];
  const end = data.indexOf(0x0a, at + 1);
  let rule = data.toString('latin1', at + 1, end < 0 ? data.length : end);
  const names: ZoneName[] = [];
  for (let i = 0; i < 2; i++) {
    const match = POSIX_ZONE.exec(rule);
    if (!match) break;
    const name = match[1] ?? match[2];
    if (match[3] === undefined) {
      // Only the daylight-saving name may go without an offset: one hour ahead of standard time.
      if (i === 0) break;
      names.push({ name, offsetSeconds: names[0].offsetSeconds + 3600 });
    } else {
      names.push({ name, offsetSeconds: -posixSeconds(match[3]) });
    }
    rule = rule.slice(match[0].length);
  }
  return names;
}

function posixSeconds(text: string): number {
  const sign = text.startsWith('-') ? -1 : 1;
  const [hours, minutes = 0, seconds = 0] = text.replace(/^[+-]/, '').split(':').map(Number);
  return sign * (hours * 3600 + minutes * 60 + seconds);
}
