/**
 * The state a project's badge shows, from what the server said and what the
 * client is doing. Dependency-free (unit-tested with node --test).
 */
import type { ProjectState } from './api';

/**
 * What the badge shows: the server's state plus client-side ones. The
 * server's `busy` (another command holds the project's lock) shows as
 * `building`, never as drift.
 */
export type DisplayState =
  | Exclude<ProjectState, 'busy'>
  | 'building'
  | 'error'
  | 'not-a-project'
  | 'untrusted'
  | 'unknown';

/** The badge's tooltip for each state. */
export const STATE_TEXT: Record<DisplayState, string> = {
  'in-sync':
    'The environment matches the lock, and the lock matches pyproject.toml.',
  'lock-out-of-date': 'pyproject.toml changed since the lock was made.',
  'env-out-of-date': 'The environment differs from the lock.',
  'no-lock': 'The project has no pylock.toml yet.',
  'no-env': 'The environment has not been built yet.',
  building: 'Working on the environment…',
  error: 'Something went wrong: see the message below.',
  'not-a-project':
    'Not an envlock project (yet): see below for what envlock can do here.',
  untrusted:
    'Not trusted yet: envlock has built nothing and run nothing from this project.',
  unknown: 'Loading…'
};

/** The project's status as last read (`GET project`), if any. */
export interface IStatusFacts {
  state: ProjectState;
  busy?: boolean;
  /** `trusted: false`: kernel starts and the panel's actions are refused until it is. */
  trust?: { trusted: boolean } | null;
}

/** The project's entry of the project list (`GET projects`), if any. */
export interface ISummaryFacts {
  state: ProjectState | 'error' | 'not-a-project';
}

/** What the client knows when it picks the state to show. */
export interface IStateFacts {
  /** A build, an action of ours, or the settling after one is under way. */
  working: boolean;
  /** The last build failed or the last read of the project failed. */
  failed: boolean;
  status: IStatusFacts | null;
  summary: ISummaryFacts | null;
}

/**
 * Whether another command (a `%dep` in a kernel, a kernel start, the CLI)
 * holds the project's lock. The status, when read, has the last word over
 * the project list.
 */
export function isServerBusy(
  status: IStatusFacts | null,
  summary: ISummaryFacts | null
): boolean {
  return status?.busy === true || (status?.state ?? summary?.state) === 'busy';
}

/**
 * The state the badge shows: working first, then failure, then a project not
 * trusted yet (nothing else about it matters until it is), then the server's.
 */
export function displayState(facts: IStateFacts): DisplayState {
  const { working, failed, status, summary } = facts;
  const state = status?.state ?? summary?.state ?? 'unknown';
  if (working || status?.busy === true || state === 'busy') {
    return 'building';
  }
  if (failed) {
    return 'error';
  }
  if (status?.trust?.trusted === false) {
    return 'untrusted';
  }
  return state;
}
