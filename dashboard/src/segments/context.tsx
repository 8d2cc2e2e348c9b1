// What every row editor needs from the page, without passing it through each level of nesting: the choices loaded
// from the API (segments, lists, locations, custom computed properties) and the API error located in the rows.
import { createContext, useContext } from 'react';
import type { Located } from './where.ts';

export interface Named {
  id: string;
  name: string;
}
export interface BuilderChoices {
  segments: Named[];
  lists: Named[];
  locations: Named[];
  /** custom computed properties, as custom.<name> */
  customs: string[];
  /** the error to show in the rows, with the row and field it names */
  err: (Located & { message: string }) | null;
}
export const BuilderCtx = createContext<BuilderChoices>({ segments: [], lists: [], locations: [], customs: [], err: null });
export const useChoices = () => useContext(BuilderCtx);

/** "1.0" (positions from the root) → "2.1", the number people read. */
export const human = (at: string) =>
  at
    .split('.')
    .map((n) => Number(n) + 1)
    .join('.');
