export interface PressureStats {
  /** Total stall time of `some` tasks, in seconds. */
  readonly someSeconds: number;
  /** Total stall time of all tasks; absent for cpu before kernel 5.13. */
  readonly fullSeconds?: number;
}

/** Parses a /proc/pressure/<resource> file (PSI): `some|full avg10=.. avg60=.. avg300=.. total=<us>`. */
export function parsePressure(text: string): PressureStats {
  let someSeconds: number | undefined;
  let fullSeconds: number | undefined;
  for (const line of text.split('\n')) {
    const match = /^(some|full) .*\btotal=(\d+)/.exec(line);
    if (!match) continue;
    const seconds = Number(match[2]) / 1e6;
    if (match[1] === 'some') someSeconds = seconds;
    else fullSeconds = seconds;
  }
  if (someSeconds === undefined) throw new Error('no "some" line in pressure file');
  return { someSeconds, fullSeconds };
}
