/** The app's screens; hash routes keep every screen reachable offline from the one cached page. */
export const ROUTES = ['home', 'diagnostics'] as const;
export type Route = (typeof ROUTES)[number];

function parse(hash: string): Route {
  const name = hash.replace(/^#\/?/, '').split(/[?/]/)[0] ?? '';
  return (ROUTES as readonly string[]).includes(name) ? (name as Route) : 'home';
}

class Router {
  current = $state<Route>(parse(location.hash));

  constructor() {
    addEventListener('hashchange', () => (this.current = parse(location.hash)));
  }

  href(route: Route): string {
    return route === 'home' ? '#/' : `#/${route}`;
  }
}

export const router = new Router();
