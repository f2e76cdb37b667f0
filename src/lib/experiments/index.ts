/** A/B experiments on the device: assignment, counting, and the opt-in aggregate report. */
export { experiments } from './experiments-manager.svelte';
export { CONSENT_KEY, INSTALL_ID_KEY, LEDGER_KEY, REPORT_KEY_KEY } from './device';
export type { Consent, Ledger, ReportAttempt } from './device';
export { parseManifestExperiments } from './manifest';
export type { OutcomeType } from '../../../models/experiments/types';
