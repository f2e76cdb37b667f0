/** The operations the lab benchmark times (the same names as workers/lab.worker.ts BENCH_OPS, kept here so the page bundle does not import the worker). */
export const BENCH_OPS = ['feed', 'similar', 'search', 'photo-search'] as const;
