// The one switch for the render memo (compiled MJML and text parts per skeleton, see slots.ts): on by default;
// turning it off, or clearing it, never changes a rendered result, only how long rendering takes.
import { clearTextMemo } from './render-email.ts';
import { cacheSettings, clearCompileCache, compileCacheSize } from './mjml.ts';

export function configureRenderCache(o: { enabled?: boolean; maxEntries?: number; clear?: boolean }): { enabled: boolean; maxEntries: number; entries: number } {
  if (o.enabled !== undefined) cacheSettings.enabled = o.enabled;
  if (o.maxEntries !== undefined) cacheSettings.maxEntries = Math.max(1, Math.floor(o.maxEntries));
  if (o.clear || o.enabled === false) {
    clearCompileCache();
    clearTextMemo();
  }
  return { ...cacheSettings, entries: compileCacheSize() };
}
