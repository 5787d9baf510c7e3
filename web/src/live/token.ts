/**
 * The API token: `?token=` in the URL wins (a wall display is set up by opening one link) and is
 * remembered in localStorage so later navigations and reloads keep working without it.
 */
const KEY = 'downstream.token';

export function readToken(): string | undefined {
  try {
    const fromUrl = new URLSearchParams(window.location.search).get('token');
    if (fromUrl) {
      window.localStorage.setItem(KEY, fromUrl);
      return fromUrl;
    }
    return window.localStorage.getItem(KEY) ?? undefined;
  } catch {
    // localStorage may be unavailable (privacy mode); the URL token still works for this page.
    return new URLSearchParams(window.location.search).get('token') ?? undefined;
  }
}

export function authHeaders(): Record<string, string> {
  const token = readToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}
