/**
 * The closed list of TF.js backends FashionML runs on, the order `auto` tries them in, and the
 * errors a caller sees when a choice cannot be honoured. Pure data and validation: no TF.js here,
 * so the UI can import it without pulling TF.js into the first-paint bundle.
 */

/** Every backend, fastest first: the order `auto` tries them in. */
export const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** What a user or a caller may ask for: one backend, or `auto` for the best available. */
export type BackendRequest = BackendName | 'auto';

export function isBackendName(value: unknown): value is BackendName {
  return typeof value === 'string' && (BACKENDS as readonly string[]).includes(value);
}

/**
 * Parses a backend request from an untrusted string (URL parameter, stored setting).
 * Throws an error that names the valid values instead of silently falling back.
 */
export function parseBackendRequest(value: string | null | undefined, source = 'backend'): BackendRequest {
  if (value === null || value === undefined || value === '' || value === 'auto') return 'auto';
  const normalised = value.trim().toLowerCase();
  if (normalised === 'auto') return 'auto';
  if (isBackendName(normalised)) return normalised;
  throw new InvalidBackendError(
    `${source}: "${value}" is not a backend. Valid values: auto, ${BACKENDS.join(', ')}.`,
  );
}

/** The backends `request` expands to, in the order they should be tried. */
export function backendOrder(request: BackendRequest): BackendName[] {
  return request === 'auto' ? [...BACKENDS] : [request];
}

/** The next backend after `current` in priority order, or undefined when there is none left. */
export function nextBackend(current: BackendName, excluded: ReadonlySet<BackendName> = new Set()): BackendName | undefined {
  const start = BACKENDS.indexOf(current) + 1;
  return BACKENDS.slice(start).find((name) => !excluded.has(name));
}

export class InvalidBackendError extends Error {
  override readonly name = 'InvalidBackendError';
}

/** An explicit backend choice that this device cannot honour. */
export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
  constructor(
    readonly requested: BackendName,
    readonly reason: string,
    readonly available: BackendName[],
  ) {
    super(
      `Backend "${requested}" is not available on this device: ${reason}. ` +
        `Available: ${available.length > 0 ? available.join(', ') : 'none'}.`,
    );
  }
}
