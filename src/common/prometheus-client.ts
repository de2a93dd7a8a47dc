import http from 'node:http';
import https from 'node:https';
import { pipeline, type Readable } from 'node:stream';
import zlib from 'node:zlib';
import { backoffDelay } from './backoff';
import { MatrixSyntaxError, parseMatrix, parseSampleValue, type MatrixSeries } from './matrix-parser';
import { splitUserinfo } from './url';
import { tlsConnectOptions } from './tls';

/**
 * How to reach a Prometheus-compatible HTTP API (Prometheus, Thanos, Mimir, VictoriaMetrics), as the
 * configuration's `prometheus:` sections spell it (their schema produces this, defaults filled in).
 */
export interface PrometheusConnection {
  url: string;
  /** Of one request, in ms. */
  timeout: number;
  /** Larger answers fail as a bad query. */
  max_response_bytes: number;
  /** Attempts after the first for errors that retrying can fix. */
  retries: number;
  headers: Record<string, string>;
  bearer_token?: string;
  basic_auth?: { username: string; password: string };
  tls: {
    ca_file?: string;
    cert_file?: string;
    key_file?: string;
    server_name?: string;
    insecure_skip_verify: boolean;
  };
}

export interface RangeSeries {
  labels: Record<string, string>;
  /** Unix milliseconds, ascending. */
  timestamps: number[];
  values: number[];
}

export interface InstantSample {
  labels: Record<string, string>;
  timestamp: number;
  value: number;
}

/**
 * `too_expensive`: Prometheus refused or cancelled the query (its own timeout, too many samples).
 * `timeout`: no answer within the client's timeout.
 */
export type PrometheusErrorKind = 'bad_query' | 'too_expensive' | 'unavailable' | 'timeout' | 'bad_response';

export class PrometheusError extends Error {
  constructor(
    readonly kind: PrometheusErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'PrometheusError';
  }

  /**
   * A bad query stays bad, and a query that took too long once costs as much again: asking again
   * only multiplies the load. Unreachable servers and garbled answers may pass.
   */
  get retryable(): boolean {
    return this.kind === 'unavailable' || this.kind === 'bad_response';
  }
}

interface ApiEnvelope {
  status?: string;
  data?: unknown;
  errorType?: string;
  error?: string;
}

type VectorResult = {
  resultType: 'vector';
  result: Array<{ metric: Record<string, string>; value: [number, string] }>;
};

/** Prometheus' words for a query over its sample, series or resolution limits. */
const TOO_EXPENSIVE = /too many samples|exceeded maximum resolution|query processing would load|limit/i;

/** Prometheus' limit on the points of one series in one query_range answer. */
export const MAX_POINTS_PER_SERIES = 11_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The longest wait between two attempts of one call. */
const MAX_BACKOFF_MS = 30_000;

/** At most this many answer buffers are kept for reuse: one per rule querying at the same moment. */
const MAX_SPARE_BUFFERS = 16;
/** The first buffer an answer is read into, and the smallest one kept. */
const MIN_ANSWER_BUFFER = 1 << 20;

/**
 * The buffer to keep after an answer of `length` bytes was read into `buffer`: the same, unless
 * the answer filled less than half of it. A buffer grown for a backfill's answer is then replaced
 * by one of the answer's size and a quarter: the steady cycles after a backfill ask for a few
 * steps, and a buffer sized for weeks of history would stay resident for nothing.
 */
function bufferToKeep(buffer: Buffer, length: number): Buffer {
  const fits = Math.max(MIN_ANSWER_BUFFER, Math.ceil(length * 1.25));
  return buffer.length > 2 * fits ? Buffer.allocUnsafe(fits) : buffer;
}

export interface PrometheusClientOptions {
  /** The first wait before a retry, in ms (later ones grow exponentially, up to 30 s). */
  backoffBaseMs?: number;
  /**
   * Ask for gzipped answers (the default): a detector's can be many MB. Inflating them costs the
   * reading thread about as much CPU as the rest of a small answer, which the bridge saves.
   */
  gzip?: boolean;
}

/**
 * Client of Prometheus' HTTP API (/api/v1/query, /api/v1/query_range), with retries. Its requests
 * are node:http's own, not a general HTTP client's: the bridge asks for every graph on the event
 * loop that acknowledges webhooks, and one POST read into a buffer is all either service needs.
 */
export class PrometheusClient {
  private readonly agent: http.Agent;
  private readonly headers: Record<string, string>;
  /** Buffers of earlier answers, to read the next ones into, smallest first (see readBody). */
  private readonly spareBuffers: Buffer[] = [];
  readonly url: string;

  /** Bytes of the buffers kept for the next answers. */
  get spareBytes(): number {
    return this.spareBuffers.reduce((sum, spare) => sum + spare.length, 0);
  }

  private readonly backoffBaseMs: number;

  constructor(
    private readonly connection: PrometheusConnection,
    options: PrometheusClientOptions = {},
  ) {
    this.backoffBaseMs = options.backoffBaseMs ?? 500;
    // Credentials in the URL become basic auth, so `url` (printed in logs and errors) holds none.
    const { url, auth } = splitUserinfo(connection.url);
    this.url = url.replace(/\/+$/, '');
    this.headers = {
      ...connection.headers,
      'Content-Type': 'application/x-www-form-urlencoded',
      'Accept-Encoding': options.gzip === false ? 'identity' : 'gzip',
    };
    if (connection.bearer_token) this.headers.Authorization = `Bearer ${connection.bearer_token}`;
    const basic = connection.basic_auth ?? auth;
    if (basic !== undefined) {
      this.headers.Authorization = `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString('base64')}`;
    }
    this.agent = this.url.startsWith('https:')
      ? new https.Agent({ keepAlive: true, ...tlsConnectOptions(connection.tls) })
      : new http.Agent({ keepAlive: true });
  }

  async query(expr: string, timeMs?: number): Promise<InstantSample[]> {
    const params: Record<string, string> = { query: expr };
    if (timeMs !== undefined) params.time = String(timeMs / 1000);
    const data = (await this.call('/api/v1/query', params, readJson)) as VectorResult;
    if (data?.resultType !== 'vector') {
      throw new PrometheusError('bad_response', `query returned ${data.resultType}, expected vector`);
    }
    return data.result.map((r) => ({
      labels: r.metric,
      timestamp: r.value[0] * 1000,
      value: parseSampleValue(r.value[1]),
    }));
  }

  async queryRange(expr: string, startMs: number, endMs: number, stepMs: number): Promise<RangeSeries[]> {
    const result: RangeSeries[] = [];
    await this.rangeRequest(
      expr,
      startMs,
      endMs,
      stepMs,
      (series) =>
        result.push({
          labels: JSON.parse(series.metricText) as Record<string, string>,
          timestamps: plainArray(series.timestamps),
          values: plainArray(series.values),
        }),
      // A retry starts the list over: a garbled answer may have been read in part.
      () => (result.length = 0),
    );
    return result;
  }

  /**
   * A range query, each series handed to `visit` as it is read from the answer (its arrays are
   * reused for the next one), in requests Prometheus accepts: it refuses more than 11,000 points
   * per series. Requests go in time order and never repeat a step. Returns the series count of
   * the last request.
   */
  async queryRangeEach(
    expr: string,
    startMs: number,
    endMs: number,
    stepMs: number,
    visit: (series: MatrixSeries) => void,
  ): Promise<number> {
    let count = 0;
    for (let chunkStart = startMs; chunkStart <= endMs; chunkStart += MAX_POINTS_PER_SERIES * stepMs) {
      const chunkEnd = Math.min(endMs, chunkStart + (MAX_POINTS_PER_SERIES - 1) * stepMs);
      count = await this.rangeRequest(expr, chunkStart, chunkEnd, stepMs, visit);
    }
    return count;
  }

  /**
   * One query_range request, its series handed to `visit`; resolves to their count. `attempt`
   * runs before each answer is read (by default, a retry after a garbled answer visits some
   * series again: the detector's models ignore points they have seen).
   */
  private async rangeRequest(
    expr: string,
    startMs: number,
    endMs: number,
    stepMs: number,
    visit: (series: MatrixSeries) => void,
    attempt: () => void = () => undefined,
  ): Promise<number> {
    const params = {
      query: expr,
      start: String(startMs / 1000),
      end: String(endMs / 1000),
      step: String(stepMs / 1000),
    };
    const answer = await this.call('/api/v1/query_range', params, (body) => {
      attempt();
      const envelope = parseMatrix(body, visit);
      return { envelope: { ...envelope, data: envelope.resultType }, value: envelope };
    });
    if (answer.resultType !== 'matrix') {
      throw new PrometheusError('bad_response', `query_range returned ${answer.resultType}, expected matrix`);
    }
    return answer.series;
  }

  /**
   * One API call with retries; `read` turns the answer's bytes into its envelope and the value,
   * or throws a MatrixSyntaxError / SyntaxError when they are not JSON.
   */
  private async call<T>(
    path: string,
    params: Record<string, string>,
    read: (body: Buffer) => { envelope: ApiEnvelope; value: T },
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        const { status, body, release } = await this.post(path, params);
        let answer;
        try {
          answer = read(body);
        } catch (err) {
          if (!(err instanceof MatrixSyntaxError || err instanceof SyntaxError)) throw err;
        } finally {
          release();
        }
        this.checkAnswer(path, status, answer?.envelope);
        return answer!.value;
      } catch (err) {
        const error = err instanceof PrometheusError ? err : new PrometheusError('unavailable', String(err));
        if (!error.retryable || attempt >= this.connection.retries) throw error;
        await sleep(backoffDelay(attempt, this.backoffBaseMs, MAX_BACKOFF_MS));
      }
    }
  }

  /**
   * POST with a form body: long PromQL does not fit in a URL. The answer's bytes are read by the
   * caller: a range answer is parsed without building a string of it. Any HTTP status comes back
   * with its body: Prometheus answers 400/422 with a JSON error worth reading.
   */
  private post(
    path: string,
    params: Record<string, string>,
  ): Promise<{ status: number; body: Buffer; release(): void }> {
    // Prometheus' own evaluation timeout, a little shorter than ours, so it stops the work rather
    // than finishing a query nobody waits for any more.
    const evaluationTimeout = String(Math.max(0.001, (this.connection.timeout * 0.9) / 1000));
    const form = new URLSearchParams({ ...params, timeout: evaluationTimeout }).toString();
    const where = `${this.url}${path}`;
    return new Promise((resolve, reject) => {
      const request = (this.agent instanceof https.Agent ? https : http).request(
        where,
        {
          method: 'POST',
          agent: this.agent,
          headers: { ...this.headers, 'Content-Length': Buffer.byteLength(form) },
        },
        (response) => {
          // An error of the answer's stream (a reset, the timeout below) ends the inflating one too.
          const encoding = response.headers['content-encoding'];
          const body =
            encoding === 'gzip' ? pipeline(response, zlib.createGunzip(), () => undefined) : response;
          this.readBody(body).then(
            ({ body: bytes, release }) => resolve({ status: response.statusCode ?? 0, body: bytes, release }),
            (err: unknown) => reject(this.requestError(where, err)),
          );
        },
      );
      // The whole request, answer included, within `timeout` ms (one that trickles in too): given
      // up, not retried (see retryable).
      const deadline = setTimeout(
        () =>
          request.destroy(
            new PrometheusError('timeout', `${where}: timed out after ${this.connection.timeout} ms`),
          ),
        this.connection.timeout,
      );
      request.on('error', (err) => reject(this.requestError(where, err)));
      request.on('close', () => clearTimeout(deadline));
      request.end(form);
    });
  }

  /** What a failed request amounts to: the PrometheusError it carries, else Prometheus unreachable. */
  private requestError(where: string, err: unknown): PrometheusError {
    if (err instanceof PrometheusError) return err;
    const code = (err as NodeJS.ErrnoException).code;
    return new PrometheusError('unavailable', `${where}: ${code ?? String(err)}`);
  }

  /**
   * The answer's bytes, read into a buffer an earlier answer left: on a detector of 100,000 series
   * a new 20 MB buffer per answer cost more in page faults than parsing it. Rules with the same step
   * query at the same moment, so one buffer is kept per answer read at once (up to
   * MAX_SPARE_BUFFERS, the largest ones), each at most about twice its last answer (bufferToKeep).
   * `release` gives the buffer back once the bytes are read.
   */
  private async readBody(stream: Readable): Promise<{ body: Buffer; release(): void }> {
    const spares = this.spareBuffers;
    let buffer = spares.pop() ?? Buffer.allocUnsafe(MIN_ANSWER_BUFFER);
    let length = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (length + chunk.length > this.connection.max_response_bytes) {
        // Asking again gets the same answer: the query selects too much.
        throw new PrometheusError(
          'bad_query',
          `answer larger than max_response_bytes (${this.connection.max_response_bytes}): narrow the query`,
        );
      }
      if (length + chunk.length > buffer.length) {
        const grown = Buffer.allocUnsafe(Math.max(buffer.length * 2, length + chunk.length));
        buffer.copy(grown, 0, 0, length);
        buffer = grown;
      }
      chunk.copy(buffer, length);
      length += chunk.length;
    }
    return {
      body: buffer.subarray(0, length),
      release: () => {
        const kept = bufferToKeep(buffer, length);
        const larger = spares.findIndex((spare) => spare.length > kept.length);
        spares.splice(larger < 0 ? spares.length : larger, 0, kept);
        if (spares.length > MAX_SPARE_BUFFERS) spares.shift();
      },
    };
  }

  /** One status policy for every call: throws the PrometheusError the answer amounts to. */
  private checkAnswer(path: string, status: number, body: ApiEnvelope | undefined): void {
    if (
      body?.errorType === 'timeout' ||
      (body?.errorType === 'execution' && TOO_EXPENSIVE.test(body.error ?? ''))
    ) {
      throw new PrometheusError(
        'too_expensive',
        `query refused as too expensive: ${body.error ?? body.errorType}`,
      );
    }
    if (status >= 500 || status === 429) {
      throw new PrometheusError(
        'unavailable',
        `${this.url}${path}: HTTP ${status}${body?.error ? `: ${body.error}` : ''}`,
      );
    }
    if (status === 400 || status === 422 || body?.status === 'error') {
      throw new PrometheusError(
        'bad_query',
        `${body?.errorType ?? 'error'}: ${body?.error ?? `HTTP ${status}`}`,
      );
    }
    if (status !== 200 || !body || body.status !== 'success' || !body.data) {
      throw new PrometheusError('bad_response', `${this.url}${path}: unexpected HTTP ${status} response`);
    }
  }
}

/** A small JSON answer (an instant query, an error). */
function readJson(body: Buffer): { envelope: ApiEnvelope; value: unknown } {
  const envelope = JSON.parse(body.toString('utf8')) as ApiEnvelope;
  return { envelope, value: envelope?.data };
}

/**
 * A copy of `samples` as a plain array. Not Array.from: on a typed array it goes through the
 * iterator, one result object per sample, and for the bridge's graph queries that garbage was half
 * of all its event loop allocated under an alert storm (sampled heap profile, 2,000 graphed
 * notifications); this loop is about 6x faster and allocates only the array.
 */
function plainArray(samples: Float64Array): number[] {
  const copy = new Array<number>(samples.length);
  for (let i = 0; i < samples.length; i++) copy[i] = samples[i];
  return copy;
}
