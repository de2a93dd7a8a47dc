import { glob } from 'tinyglobby';
import { errorMessage } from '../../common/errors';
import type { LogGroupConfig } from '../../config/logs';
import { FileFollower, type FollowerStats } from './follower';
import type { RuleSet } from './rules';
import { readPositions, writePositions, type FilePosition } from './state';

/** Bytes one file may read in one round before the others get their turn. */
const ROUND_BUDGET = 4 * 1024 * 1024;
/** Positions are written at most this often while reading, and always at close. */
const SAVE_INTERVAL_MS = 5_000;

export interface TailSettings {
  /** Where positions are saved across restarts. */
  readonly stateFile: string;
  readonly pollIntervalMs: number;
}

export interface TailerLogger {
  warn(fields: object, msg: string): void;
}

export interface FollowedFile {
  readonly path: string;
  readonly stats: FollowerStats;
  readonly following: boolean;
}

/**
 * Follows every file matched by the groups' paths and globs and feeds their lines to the groups'
 * rules, in rounds: each round looks for new files, reads what each file gained (a bounded amount
 * per file), and saves the positions now and then. Reading runs beside the scrapes, which only
 * read the metrics these rounds update.
 */
export class LogTailer {
  private readonly followers = new Map<string, { follower: FileFollower; ruleSets: RuleSet[] }>();
  private readonly buffer: Buffer;
  private positions = new Map<string, FilePosition>();
  private timer?: NodeJS.Timeout;
  private round?: Promise<void>;
  private closed = false;
  private savedAt = 0;
  private firstRound = true;

  constructor(
    private readonly groups: ReadonlyArray<{ config: LogGroupConfig; ruleSets: RuleSet }>,
    private readonly settings: TailSettings,
    private readonly logger: TailerLogger,
  ) {
    const longest = Math.max(...groups.map((group) => group.config.max_line_bytes));
    this.buffer = Buffer.allocUnsafeSlow(Math.max(64 * 1024, longest + 1));
  }

  /** Reads the saved positions and starts the first round. */
  start(): void {
    try {
      this.positions = readPositions(this.settings.stateFile);
    } catch (err) {
      this.logger.warn(
        { file: this.settings.stateFile, err: errorMessage(err) },
        'ignoring unreadable log position file; files start at their end',
      );
    }
    this.schedule(0);
  }

  get files(): FollowedFile[] {
    return [...this.followers.values()].map(({ follower }) => follower);
  }

  /** Stops reading, waits for the round under way, saves the positions and closes the files. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.round;
    await this.save();
    for (const { follower } of this.followers.values()) await follower.close();
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.round = this.runRound()
        .catch((err: unknown) => this.logger.warn({ err: errorMessage(err) }, 'log round failed'))
        .then((more) => this.schedule(more === true ? 0 : this.settings.pollIntervalMs));
    }, delayMs);
    this.timer.unref();
  }

  /** One round; true when some file has more to read right away. */
  private async runRound(): Promise<boolean> {
    await this.discover();
    let more = false;
    for (const [path, { follower }] of this.followers) {
      if (this.closed) break;
      if (await follower.poll(ROUND_BUDGET)) more = true;
      if (follower.idle) {
        this.followers.delete(path);
        await follower.close();
      }
    }
    if (Date.now() - this.savedAt >= SAVE_INTERVAL_MS) await this.save();
    return more;
  }

  /** Files that match now and are not followed yet; a path matched by two groups feeds both. */
  private async discover(): Promise<void> {
    const firstRound = this.firstRound;
    this.firstRound = false;
    for (const { config, ruleSets } of this.groups) {
      let paths: string[];
      try {
        paths = await glob(config.files, { absolute: true, onlyFiles: true, expandDirectories: false });
      } catch (err) {
        this.logger.warn({ files: config.files, err: errorMessage(err) }, 'cannot list log files');
        continue;
      }
      for (const path of paths) {
        const known = this.followers.get(path);
        if (known) {
          if (!known.ruleSets.includes(ruleSets)) known.ruleSets.push(ruleSets);
          continue;
        }
        // Files there at start begin at their end (or saved position); files that appear later
        // are new, and read whole.
        const start = this.positions.get(path) ?? (firstRound && !config.from_beginning ? 'end' : 'start');
        const sets = [ruleSets];
        const follower = new FileFollower(
          path,
          {
            onLine: (line) => {
              for (const set of sets) set.apply(line);
            },
            maxLineBytes: config.max_line_bytes,
            buffer: this.buffer,
          },
          start,
          (file, message) => this.logger.warn({ file, err: message }, 'cannot read log file'),
        );
        this.followers.set(path, { follower, ruleSets: sets });
      }
    }
  }

  private async save(): Promise<void> {
    this.savedAt = Date.now();
    const positions = new Map<string, FilePosition>();
    for (const [path, { follower }] of this.followers) {
      // A file not opened yet keeps the position saved before.
      const position = follower.position() ?? this.positions.get(path);
      if (position) positions.set(path, position);
    }
    this.positions = positions;
    try {
      await writePositions(this.settings.stateFile, positions);
    } catch (err) {
      this.logger.warn(
        { file: this.settings.stateFile, err: errorMessage(err) },
        'cannot save log positions',
      );
    }
  }
}
