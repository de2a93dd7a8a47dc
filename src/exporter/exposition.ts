import type { MetricFamily, MetricType, Sample } from '../common/exposition';

/** A metric family's name, help, type and label names, declared once where several collectors share it. */
export interface FamilySpec {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly labels?: readonly string[];
}

/** The labels of every sample of a family without label names. */
const NO_LABELS: Record<string, string> = Object.freeze({});

export class FamilyBuilder {
  constructor(
    readonly family: MetricFamily,
    private readonly labelNames: readonly string[],
  ) {}

  /** Adds a sample; label values are given in the order of the family's label names. */
  add(value: number, ...labelValues: string[]): this {
    let labels = NO_LABELS;
    if (this.labelNames.length > 0) {
      labels = {};
      for (let i = 0; i < this.labelNames.length; i++) labels[this.labelNames[i]] = labelValues[i] ?? '';
    }
    this.family.samples.push({ labels, value });
    return this;
  }
}

/**
 * What a collector writes its metrics into during one scrape. Host metrics are plain families
 * rendered by common/exposition rather than prom-client objects: a scrape makes a few hundred
 * constant samples, and building prom-client metrics for them each time costs more than reading
 * /proc does.
 */
export class MetricSink {
  readonly families: MetricFamily[] = [];

  counter(name: string, help: string, labelNames: readonly string[] = []): FamilyBuilder {
    return this.family(name, help, 'counter', labelNames);
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): FamilyBuilder {
    return this.family(name, help, 'gauge', labelNames);
  }

  untyped(name: string, help: string, labelNames: readonly string[] = []): FamilyBuilder {
    return this.family(name, help, 'untyped', labelNames);
  }

  /** A family read whole from elsewhere (a text file). */
  addFamily(family: MetricFamily): void {
    this.families.push(family);
  }

  /** A family declared once as a constant, for collectors that share it (Linux and portable). */
  declared(spec: FamilySpec): FamilyBuilder {
    return this.family(spec.name, spec.help, spec.type, spec.labels ?? []);
  }

  private family(name: string, help: string, type: MetricType, labelNames: readonly string[]): FamilyBuilder {
    const family: MetricFamily = { name, help, type, samples: [] as Sample[] };
    this.families.push(family);
    return new FamilyBuilder(family, labelNames);
  }
}

/**
 * Merges families of the same name (several collectors may add to one) and sorts them by name.
 * A family is copied only to merge another into it: the families given are left as they are.
 */
export function mergeFamilies(families: Iterable<MetricFamily>): MetricFamily[] {
  const byName = new Map<string, MetricFamily>();
  const copies = new Set<MetricFamily>();
  for (const family of families) {
    const seen = byName.get(family.name);
    if (!seen) {
      byName.set(family.name, family);
    } else if (copies.has(seen)) {
      seen.samples.push(...family.samples);
    } else {
      const merged = { ...seen, samples: [...seen.samples, ...family.samples] };
      copies.add(merged);
      byName.set(family.name, merged);
    }
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
