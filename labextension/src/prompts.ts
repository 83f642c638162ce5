/**
 * What the panel offers for each project state that needs a fix: the
 * sentence, the button's label and which model action it runs.
 * Dependency-free (unit-tested with node --test).
 */
import type { ProjectState } from './api';

/** The model actions a fix prompt runs (methods of `EnvlockModel`). */
export type FixAction = 'relockAndSync' | 'sync';

export interface IFixPrompt {
  text: string;
  label: string;
  action: FixAction;
  /** List what differs between the environment and the lock. */
  showDrift: boolean;
}

/**
 * One prompt per state that needs a fix. A stale or missing lock is fixed by
 * re-locking and syncing in one go, so that one click leaves the project in
 * sync; `in-sync` and `busy` need none.
 */
export const FIX_PROMPTS: Readonly<Partial<Record<ProjectState, IFixPrompt>>> =
  {
    'lock-out-of-date': {
      text: 'pyproject.toml changed since pylock.toml was written.',
      label: 'Re-lock and sync',
      action: 'relockAndSync',
      showDrift: false
    },
    'no-lock': {
      text: 'This project has no pylock.toml yet.',
      label: 'Lock and sync',
      action: 'relockAndSync',
      showDrift: false
    },
    'env-out-of-date': {
      text: 'The environment differs from pylock.toml.',
      label: 'Sync',
      action: 'sync',
      showDrift: true
    },
    'no-env': {
      text: 'The environment has not been built yet.',
      label: 'Build',
      action: 'sync',
      showDrift: false
    }
  };

/** The fix prompt for a state, or null when there is nothing to fix. */
export function fixPromptFor(
  state: ProjectState | null | undefined
): IFixPrompt | null {
  return (state && FIX_PROMPTS[state]) || null;
}
