import { lazy, type ComponentType } from 'react';

/**
 * React.lazy that keeps retrying a failed chunk download (server restarting under a wall
 * display) instead of caching the failure for the life of the page.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function lazyRetry<T extends ComponentType<any>>(load: () => Promise<{ default: T }>) {
  return lazy(async (): Promise<{ default: T }> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await load();
      } catch (e) {
        if (attempt >= 40) throw e;
        // Server up but the chunk gone: the app was redeployed under this page (new file
        // hashes). Only a reload brings the new index; a wall must get there by itself.
        if (attempt >= 2 && (await serverAnswers())) window.location.reload();
        await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** attempt)));
      }
    }
  });
}

async function serverAnswers(): Promise<boolean> {
  try {
    return (await fetch('/', { cache: 'no-store' })).ok;
  } catch {
    return false;
  }
}
