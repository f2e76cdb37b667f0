/**
 * The app's screens; hash routes keep every screen reachable offline from the one cached page.
 * A location is `#/<route>[/<id>][?query]`, e.g. `#/product/1163`, `#/browse?gender=Men`.
 */
export const ROUTES = ['home', 'browse', 'product', 'search', 'saved', 'cart', 'settings', 'diagnostics', 'lab'] as const;
export type Route = (typeof ROUTES)[number];

export interface Location {
  route: Route;
  /** The path segment after the route (a product id), decoded; '' when absent. */
  param: string;
  query: URLSearchParams;
}

export function parseHash(hash: string): Location {
  const body = hash.replace(/^#\/?/, '');
  const [path = '', search = ''] = body.split('?', 2) as [string?, string?];
  const [name = '', ...rest] = path.split('/');
  const route = (ROUTES as readonly string[]).includes(name) ? (name as Route) : 'home';
  let param = '';
  try {
    param = decodeURIComponent(rest.join('/'));
  } catch {
    // A malformed escape in a hand-typed URL: treat it as no id rather than crash the app.
  }
  // A snapshot per navigation, never mutated: reactivity comes from replacing `location` whole.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  return { route, param, query: new URLSearchParams(search) };
}

/** The hash for a screen, an optional id and optional query parameters (empty values dropped). */
export function hrefFor(route: Route, param?: string, query?: Record<string, string | undefined>): string {
  let href = route === 'home' ? '#/' : `#/${route}`;
  if (param) href += `/${encodeURIComponent(param)}`;
  // Local scratch value for building a string, not state.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) if (value) search.set(key, value);
  const text = search.toString();
  return text ? `${href}?${text}` : href;
}

class Router {
  location = $state.raw<Location>(parseHash(location.hash));

  constructor() {
    addEventListener('hashchange', () => {
      const next = parseHash(location.hash);
      // A new screen starts at the top; a query change on the same screen keeps the scroll.
      if (next.route !== this.location.route || next.param !== this.location.param) scrollTo(0, 0);
      this.location = next;
    });
  }

  get current(): Route {
    return this.location.route;
  }

  get param(): string {
    return this.location.param;
  }

  href(route: Route, param?: string, query?: Record<string, string | undefined>): string {
    return hrefFor(route, param, query);
  }

  go(route: Route, param?: string, query?: Record<string, string | undefined>): void {
    location.hash = hrefFor(route, param, query);
  }

  /** Replaces the query of the current screen without adding a history entry. */
  replaceQuery(query: Record<string, string | undefined>): void {
    history.replaceState(history.state, '', hrefFor(this.location.route, this.location.param, query));
    this.location = parseHash(location.hash);
  }
}

export const router = new Router();
