/**
 * Experiment reports on SQLite: one row of counts per device, experiment and period, and nothing
 * else — no item ids, no histories, no install ids, no times of arrival. A device appears only as
 * `device`, the SHA-256 of (experiment id, its report key), so its rows of one experiment can be
 * told apart (for idempotency and for counting devices) but not linked to another experiment.
 */
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import type { VariantAggregate } from '../../models/experiments/analysis';
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
`;

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
    const info = this.insert.run({
      experimentId,
      device: ExperimentStore.deviceOf(experimentId, report.reportKey),
      period: report.period,
      variant: report.variant,
      exposures: report.counts.exposures,
      ...report.counts.outcomes,
    });
    return info.changes === 1 ? 'stored' : 'duplicate';
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

  /** Column names of the reports table, for tests that check nothing else is kept. */
  columns(): string[] {
    return (this.db.prepare('SELECT name FROM pragma_table_info(\'experiment_reports\')').all() as { name: string }[]).map((c) => c.name);
  }

  /** Every stored row, as stored (tests and exports). */
  rows(experimentId: string): Record<string, unknown>[] {
    return this.db.prepare('SELECT * FROM experiment_reports WHERE experiment_id = ? ORDER BY period, device').all(experimentId) as Record<string, unknown>[];
  }

  close(): void {
    this.db.close();
  }
}
