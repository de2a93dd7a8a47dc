import { z } from 'zod';
import type { ExporterConfig } from '../config/exporter';
import { parseSection } from '../config/load';
import type { Collector, ScrapeLogger } from './collector';
import type { Host } from './host';
import type { Inventory } from './inventory';

/** What a collector's constructor may use besides its own settings. */
export interface CollectorContext {
  readonly host: Host;
  readonly platform: NodeJS.Platform;
  /** The whole `exporter:` section, for a collector configured outside `collectors:` (logs). */
  readonly config: ExporterConfig;
  readonly inventory: () => Promise<Inventory>;
  readonly logger?: ScrapeLogger;
}

/** A node_exporter flag of one collector: `--collector.<collector>.<flag>`, setting `key`. */
export interface CollectorFlag {
  /** After `collector.<name>.`, e.g. `mount-points-exclude`. */
  readonly flag: string;
  /** The key it sets in `exporter.collectors.<name>`. */
  readonly key: string;
  /** `switch` takes no value and sets `true`. */
  readonly kind: 'regex' | 'duration' | 'path' | 'switch';
  readonly help: string;
}

/**
 * One collector, as node_exporter's `registerCollector` plus its flags: everything about it lives in
 * its own file, and the exporter's lists (names, config schema, flags, factory) come from
 * `COLLECTORS` (collectors/index.ts).
 */
export interface CollectorDescriptor<Shape extends z.ZodRawShape = z.ZodRawShape> {
  /** The `collector` label, the `exporter.collectors.<name>` key and `--[no-]collector.<name>`. */
  readonly name: string;
  readonly enabledByDefault: boolean;
  /** The keys of `exporter.collectors.<name>` besides `enabled`, with their defaults. */
  readonly settings: Shape;
  /** Checks across keys, reported with the key path like the schema's own. */
  check?(settings: z.output<z.ZodObject<Shape>>, ctx: z.RefinementCtx): void;
  readonly flags?: readonly CollectorFlag[];
  /** The collector for this platform, or undefined where it has no source (left out, not faked). */
  create(settings: z.output<z.ZodObject<Shape>>, context: CollectorContext): Collector | undefined;
}

/** Declares a collector; the identity function that lets TypeScript infer its settings' type. */
export function defineCollector<Shape extends z.ZodRawShape>(
  descriptor: CollectorDescriptor<Shape>,
): CollectorDescriptor<Shape> {
  return descriptor;
}

/** The schema of `exporter.collectors.<name>`: `enabled` plus the collector's own keys. */
export function settingsSchema(descriptor: CollectorDescriptor) {
  const schema = z
    .object({ enabled: z.boolean().default(descriptor.enabledByDefault), ...descriptor.settings })
    .strict();
  return descriptor.check ? schema.superRefine(descriptor.check) : schema;
}

export interface ResolvedCollector {
  readonly descriptor: CollectorDescriptor;
  readonly settings: { enabled: boolean } & Record<string, unknown>;
}

/**
 * Validates `exporter.collectors` against the descriptors, in their order: an unknown collector or
 * a bad key fails with its key path (`exporter.collectors.filesystem.mount_timeout: ...`), as the
 * rest of the configuration does at load.
 */
export function resolveCollectors(
  descriptors: readonly CollectorDescriptor[],
  config: ExporterConfig,
  source = 'config',
): ResolvedCollector[] {
  const known = new Set(descriptors.map((descriptor) => descriptor.name));
  const unknown = Object.keys(config.collectors).find((name) => !known.has(name));
  if (unknown !== undefined) {
    parseSection(z.object({}).strict(), { [unknown]: {} }, ['exporter', 'collectors'], source);
  }
  return descriptors.map((descriptor) => ({
    descriptor,
    settings: parseSection(
      settingsSchema(descriptor),
      config.collectors[descriptor.name] ?? {},
      ['exporter', 'collectors', descriptor.name],
      source,
    ) as ResolvedCollector['settings'],
  }));
}

/** The enabled collectors that exist on this platform, in the order of `descriptors`. */
export function createCollectors(
  descriptors: readonly CollectorDescriptor[],
  context: CollectorContext,
  source?: string,
): Collector[] {
  const collectors: Collector[] = [];
  for (const { descriptor, settings } of resolveCollectors(descriptors, context.config, source)) {
    if (!settings.enabled) continue;
    const collector = descriptor.create(settings, context);
    if (collector) collectors.push(collector);
  }
  return collectors;
}
