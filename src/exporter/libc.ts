/** struct timex of adjtimex(2), as the kernel fills it (fields in the kernel's units). */
export interface Timex {
  readonly offset: number;
  readonly freq: number;
  readonly maxerror: number;
  readonly esterror: number;
  readonly status: number;
  readonly constant: number;
  readonly tick: number;
  readonly ppsfreq: number;
  readonly jitter: number;
  readonly shift: number;
  readonly stabil: number;
  readonly jitcnt: number;
  readonly calcnt: number;
  readonly errcnt: number;
  readonly stbcnt: number;
  readonly tai: number;
}

/** adjtimex(2)'s answer: the clock state (TIME_ERROR = 5 when unsynchronised) and the timex. */
export interface ClockState {
  readonly state: number;
  readonly timex: Timex;
}

interface Libc {
  adjtimex(buffer: Record<string, unknown>): number;
  getpagesize(): number;
  madvise(address: bigint, length: bigint, advice: number): number;
  errno(): number;
}

let libc: Promise<Libc> | undefined;

/**
 * The libc calls the Linux exporter needs and Node does not offer, through koffi (prebuilt,
 * loaded on first use so that nothing else pays for it).
 */
function loadLibc(): Promise<Libc> {
  libc ??= import('koffi').then(({ default: koffi }) => {
    const lib = koffi.load('libc.so.6');
    const long = 'long';
    // Anonymous types: a name would be registered once per process, and a second load of this
    // module (a test runner's fresh module registry in the same process) would fail on it.
    const timeval = koffi.struct({ tv_sec: long, tv_usec: long });
    const timex = koffi.struct({
      modes: 'uint',
      offset: long,
      freq: long,
      maxerror: long,
      esterror: long,
      status: 'int',
      constant: long,
      precision: long,
      tolerance: long,
      time: timeval,
      tick: long,
      ppsfreq: long,
      jitter: long,
      shift: 'int',
      stabil: long,
      jitcnt: long,
      calcnt: long,
      errcnt: long,
      stbcnt: long,
      tai: 'int',
      reserved: koffi.array('int', 11),
    });
    return {
      adjtimex: lib.func('adjtimex', 'int', [koffi.inout(koffi.pointer(timex))]) as Libc['adjtimex'],
      getpagesize: lib.func('int getpagesize()') as Libc['getpagesize'],
      madvise: lib.func('int madvise(uintptr_t addr, size_t length, int advice)') as Libc['madvise'],
      errno: () => koffi.errno(),
    };
  });
  return libc;
}

const EPERM = 1;

/** Reads the kernel clock's discipline state without changing it (modes 0). */
export async function adjtimex(): Promise<ClockState> {
  const { adjtimex: call, errno } = await loadLibc();
  const buffer: Record<string, unknown> = { modes: 0 };
  const state = call(buffer);
  if (state < 0) {
    const code = errno();
    throw Object.assign(new Error(`adjtimex failed (errno ${code})`), {
      code: code === EPERM ? 'EPERM' : 'EIO',
    });
  }
  return { state, timex: buffer as unknown as Timex };
}

/** The kernel's page size, for /proc values counted in pages. */
export async function pageSize(): Promise<number> {
  return (await loadLibc()).getpagesize();
}

const MADV_DONTNEED = 4;

/**
 * Unmaps the pages of [start, end) from this process (madvise MADV_DONTNEED); only for clean
 * copies of a file (see cleanFileMappings), which the next access reads back.
 */
export async function dropPages(start: bigint, end: bigint): Promise<void> {
  const { madvise, errno } = await loadLibc();
  if (madvise(start, end - start, MADV_DONTNEED) !== 0) throw new Error(`madvise failed (errno ${errno()})`);
}
