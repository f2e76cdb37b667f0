/**
 * Experiment reports on SQLite: one row of counts per device, experiment and period, and nothing
 * else — no item ids, no histories, no install ids, no times of arrival. A device appears only as
 * `device`, the SHA-256 of (experiment id, its report key), so its rows of one experiment can be
 * told apart (for idempotency and for counting devices) but not linked to another experiment.
 */
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import type { VariantAggregate } from '../../models/experiments/analysis';
import { LATENCY_BUCKETS } from '../../models/experiments/types';
import type { ReportBody } from './schema';

export type RecordResult = 'stored' | 'duplicate';

/** Sums for one period (a UTC day), per variant. */
export interface PeriodAggregate extends VariantAggregate {
  period: string;
}

interface AggregateRow {
  period?: string;
  variant: string;
  devices: number;
  reports: number;
  exposures: number;
  click: number;
  like: number;
  add_to_cart: number;
  purchase: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS experiment_reports (
  experiment_id TEXT NOT NULL,
  device TEXT NOT NULL,
  period TEXT NOT NULL,
  variant TEXT NOT NULL,
  exposures INTEGER NOT NULL CHECK (exposures >= 0),
  click INTEGER NOT NULL CHECK (click >= 0),
  "like" INTEGER NOT NULL CHECK ("like" >= 0),
  add_to_cart INTEGER NOT NULL CHECK (add_to_cart >= 0),
  purchase INTEGER NOT NULL CHECK (purchase >= 0),
  PRIMARY KEY (experiment_id, device, period)
) WITHOUT ROWID;
-- Monitoring that came with the reports, summed over devices: latency histogram counts per bucket,
-- error counts per operation (no messages), and per report how much of the catalog was shown.
CREATE TABLE IF NOT EXISTS experiment_latency (
  experiment_id TEXT NOT NULL,
  variant TEXT NOT NULL,
  period TEXT NOT NULL,
  op TEXT NOT NULL,
  backend TEXT NOT NULL,
  bucket INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (experiment_id, variant, period, op, backend, bucket)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS experiment_errors (
  experiment_id TEXT NOT NULL,
  variant TEXT NOT NULL,
  period TEXT NOT NULL,
  op TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (experiment_id, variant, period, op)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS experiment_coverage (
  experiment_id TEXT NOT NULL,
  device TEXT NOT NULL,
  period TEXT NOT NULL,
  lists INTEGER NOT NULL,
  impressions INTEGER NOT NULL,
  distinct_items INTEGER NOT NULL,
  catalog_size INTEGER,
  PRIMARY KEY (experiment_id, device, period)
) WITHOUT ROWID;
`;

/** Monitoring sums of one variant over every period. */
export interface VariantMonitoring {
  variant: string;
  /** Per operation and backend: the summed histogram, `counts[i]` for latency bucket i. */
  latency: { op: string; backend: string; counts: number[] }[];
  errors: { op: string; count: number }[];
  /** Reports that carried coverage, and their mean distinct items shown and share of the catalog. */
  coverage: { reports: number; meanDistinctItems: number; meanShare: number | null };
}

const SUMS = `COUNT(DISTINCT device) AS devices, COUNT(*) AS reports, SUM(exposures) AS exposures,
  SUM(click) AS click, SUM("like") AS "like", SUM(add_to_cart) AS add_to_cart, SUM(purchase) AS purchase`;

function toAggregate(row: AggregateRow): VariantAggregate {
  return {
    variant: row.variant,
    devices: row.devices,
    reports: row.reports,
    exposures: row.exposures,
    outcomes: { click: row.click, like: row.like, add_to_cart: row.add_to_cart, purchase: row.purchase },
  };
}

export class ExperimentStore {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly addLatency: Database.Statement;
  private readonly addError: Database.Statement;
  private readonly insertCoverage: Database.Statement;
  private readonly recordAll: (experimentId: string, report: ReportBody) => RecordResult;

  private constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    this.insert = this.db.prepare(
      `INSERT INTO experiment_reports (experiment_id, device, period, variant, exposures, click, "like", add_to_cart, purchase)
       VALUES (@experimentId, @device, @period, @variant, @exposures, @click, @like, @add_to_cart, @purchase)
       ON CONFLICT (experiment_id, device, period) DO NOTHING`,
    );
    this.addLatency = this.db.prepare(
      `INSERT INTO experiment_latency VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (experiment_id, variant, period, op, backend, bucket) DO UPDATE SET count = count + excluded.count`,
    );
    this.addError = this.db.prepare(
      `INSERT INTO experiment_errors VALUES (?, ?, ?, ?, ?) ON CONFLICT (experiment_id, variant, period, op) DO UPDATE SET count = count + excluded.count`,
    );
    this.insertCoverage = this.db.prepare('INSERT INTO experiment_coverage VALUES (?, ?, ?, ?, ?, ?, ?)');
    // The counts and the monitoring that came with them are stored together or not at all.
    this.recordAll = this.db.transaction((experimentId: string, report: ReportBody): RecordResult => {
      const device = ExperimentStore.deviceOf(experimentId, report.reportKey);
      const info = this.insert.run({ experimentId, device, period: report.period, variant: report.variant, exposures: report.counts.exposures, ...report.counts.outcomes });
      if (info.changes !== 1) return 'duplicate';
      const m = report.monitoring;
      if (m) {
        const key = [experimentId, report.variant, report.period] as const;
        for (const l of m.latency) for (const [bucket, n] of l.buckets) this.addLatency.run(...key, l.op, l.backend, bucket, n);
        for (const e of m.errors) if (e.count > 0) this.addError.run(...key, e.op, e.count);
        const c = m.coverage;
        this.insertCoverage.run(experimentId, device, report.period, c.lists, c.impressions, c.distinctItems, c.catalogSize ?? null);
      }
      return 'stored';
    });
  }

  /** Opens (creating if needed) the store in `file`; `:memory:` for tests. */
  static open(file: string): ExperimentStore {
    return new ExperimentStore(file);
  }

  /** The pseudonym a report key gets in one experiment. */
  static deviceOf(experimentId: string, reportKey: string): string {
    return createHash('sha256').update(`${experimentId}|${reportKey}`).digest('hex');
  }

  /** Stores one validated report; `duplicate` (and nothing written) when that device already reported that period. */
  record(experimentId: string, report: ReportBody): RecordResult {
    return this.recordAll(experimentId, report);
  }

  /** Monitoring sums per variant over every period (variants without monitoring are left out). */
  monitoring(experimentId: string): VariantMonitoring[] {
    const byVariant = new Map<string, VariantMonitoring>();
    const of = (variant: string) => {
      let v = byVariant.get(variant);
      if (!v) byVariant.set(variant, (v = { variant, latency: [], errors: [], coverage: { reports: 0, meanDistinctItems: 0, meanShare: null } }));
      return v;
    };
    const latency = this.db
      .prepare('SELECT variant, op, backend, bucket, SUM(count) AS n FROM experiment_latency WHERE experiment_id = ? GROUP BY variant, op, backend, bucket ORDER BY variant, op, backend')
      .all(experimentId) as { variant: string; op: string; backend: string; bucket: number; n: number }[];
    for (const row of latency) {
      const v = of(row.variant);
      let h = v.latency.find((l) => l.op === row.op && l.backend === row.backend);
      if (!h) v.latency.push((h = { op: row.op, backend: row.backend, counts: new Array<number>(LATENCY_BUCKETS).fill(0) }));
      h.counts[row.bucket] = row.n;
    }
    const errors = this.db
      .prepare('SELECT variant, op, SUM(count) AS n FROM experiment_errors WHERE experiment_id = ? GROUP BY variant, op ORDER BY variant, op')
      .all(experimentId) as { variant: string; op: string; n: number }[];
    for (const row of errors) of(row.variant).errors.push({ op: row.op, count: row.n });
    const coverage = this.db
      .prepare(
        `SELECT r.variant AS variant, COUNT(*) AS reports, AVG(c.distinct_items) AS items, AVG(CAST(c.distinct_items AS REAL) / NULLIF(c.catalog_size, 0)) AS share
         FROM experiment_coverage c JOIN experiment_reports r USING (experiment_id, device, period)
         WHERE c.experiment_id = ? GROUP BY r.variant`,
      )
      .all(experimentId) as { variant: string; reports: number; items: number; share: number | null }[];
    for (const row of coverage) of(row.variant).coverage = { reports: row.reports, meanDistinctItems: row.items, meanShare: row.share };
    return [...byVariant.values()];
  }

  /** Sums per variant over every period. */
  aggregates(experimentId: string): VariantAggregate[] {
    const rows = this.db
      .prepare(`SELECT variant, ${SUMS} FROM experiment_reports WHERE experiment_id = ? GROUP BY variant ORDER BY variant`)
      .all(experimentId) as AggregateRow[];
    return rows.map(toAggregate);
  }

  /** Sums per period and variant, oldest period first. */
  byPeriod(experimentId: string): PeriodAggregate[] {
    const rows = this.db
      .prepare(`SELECT period, variant, ${SUMS} FROM experiment_reports WHERE experiment_id = ? GROUP BY period, variant ORDER BY period, variant`)
      .all(experimentId) as AggregateRow[];
    return rows.map((row) => ({ period: row.period!, ...toAggregate(row) }));
  }

  /** Column names of a table, for tests that check nothing else is kept. */
  columns(table = 'experiment_reports'): string[] {
    return (this.db.prepare('SELECT name FROM pragma_table_info(?)').all(table) as { name: string }[]).map((c) => c.name);
  }

  /** Every table of the store, for the same tests. */
  tables(): string[] {
    return (this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
  }

  /** Every stored row, as stored (tests and exports). */
  rows(experimentId: string): Record<string, unknown>[] {
    return this.db.prepare('SELECT * FROM experiment_reports WHERE experiment_id = ? ORDER BY period, device').all(experimentId) as Record<string, unknown>[];
  }

  close(): void {
    this.db.close();
  }
}
