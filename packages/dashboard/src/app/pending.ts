/** Lets a page that decided an approval refresh the nav's pending count at once, instead of at its next poll. */
import { createContext } from 'react';

export const RefreshPendingContext = createContext<() => void>(() => undefined);
