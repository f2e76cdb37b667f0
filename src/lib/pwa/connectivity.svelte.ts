/** Whether the browser believes it is online; the UI shows an indicator when it is not. */
class Connectivity {
  online = $state(navigator.onLine);

  constructor() {
    addEventListener('online', () => (this.online = true));
    addEventListener('offline', () => (this.online = false));
  }
}

export const connectivity = new Connectivity();
