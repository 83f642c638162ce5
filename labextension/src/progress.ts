/**
 * Environment build progress: one JupyterLab notification per build, fed by
 * the server's env-build events (`/api/events/subscribe`).
 */
import { Notification } from '@jupyterlab/apputils';

import { ENV_BUILD_SCHEMA_ID, IEnvBuildEvent, KERNEL_NAME_PREFIX } from './api';
import { formatCounts, progressFraction } from './counts';

export { formatCounts };

/** Whether an event-bus emission is an env-build event. */
export function isEnvBuildEvent(
  emission: { schema_id?: unknown } | null | undefined
): emission is IEnvBuildEvent {
  return !!emission && emission.schema_id === ENV_BUILD_SCHEMA_ID;
}

/** A short label for the project of an event. */
export type ProjectLabeler = (event: IEnvBuildEvent) => string;

export function defaultLabel(event: IEnvBuildEvent): string {
  if (event.kernel_name && event.kernel_name.startsWith(KERNEL_NAME_PREFIX)) {
    return event.kernel_name.slice(KERNEL_NAME_PREFIX.length);
  }
  const path = (event.project ?? '').replace(/\/+$/, '');
  return path.split('/').pop() || event.kernel_name || 'project';
}

interface IBuildToast {
  id: string;
  /** The user closed the toast: stay quiet until the build ends. */
  dismissed: boolean;
}

/**
 * A kernel start always checks its environment (phase `check`), which takes
 * milliseconds when the lock is unchanged: only show a toast for it if it is
 * still running after this long.
 */
export const QUIET_CHECK_MS = 800;

export class BuildNotifier {
  /**
   * @param label names an event's project
   * @param review opens the Environment panel (a refused, untrusted start's toast offers it)
   */
  constructor(label: ProjectLabeler = defaultLabel, review?: () => void) {
    this._label = label;
    this._review = review;
  }

  handle(event: IEnvBuildEvent): void {
    const key = event.kernel_name || event.project || '';
    if (event.state === 'running') {
      this._latest.set(key, event);
      if (formatCounts(event) && event.phase) {
        this._counts.set(key, `${event.phase} ${formatCounts(event)}`);
      }
      if (this._active.has(key)) {
        this._show(key, event);
        return;
      }
      const pending = this._pending.get(key);
      if (event.phase === 'check') {
        if (pending === undefined) {
          this._pending.set(
            key,
            window.setTimeout(() => {
              this._pending.delete(key);
              const latest = this._latest.get(key);
              if (latest) {
                this._show(key, latest);
              }
            }, QUIET_CHECK_MS)
          );
        }
        return;
      }
      if (pending !== undefined) {
        window.clearTimeout(pending);
        this._pending.delete(key);
      }
      this._show(key, event);
      return;
    }

    // success or error: the build is over
    this._latest.delete(key);
    // uv reports packages as it finishes them, often all within a few ms: the
    // live toast may never have shown the counts, so the outcome says them
    const counts = this._counts.get(key);
    this._counts.delete(key);
    const pending = this._pending.get(key);
    if (pending !== undefined) {
      window.clearTimeout(pending);
      this._pending.delete(key);
    }
    const entry = this._active.get(key);
    this._active.delete(key);
    const label = this._label(event);
    const ok = event.state === 'success';
    let message: string;
    if (ok) {
      message = `Environment ${label} is ready`;
      message += event.message ? `: ${event.message}` : '';
      message += counts ? ` (${counts})` : '';
      message += event.message || counts ? '' : '.';
    } else if (event.phase === 'trust') {
      message = `Project ${label} is not trusted, so its kernel was not started: the Environment panel shows what building it would do, and trusts it.`;
    } else {
      message = `Environment ${label} failed: ${event.message || 'unknown error'}`;
    }
    const type = ok ? 'success' : event.phase === 'trust' ? 'warning' : 'error';
    const autoClose = ok ? 5000 : false;
    if (
      entry &&
      !entry.dismissed &&
      Notification.update({ id: entry.id, message, type, autoClose })
    ) {
      return;
    }
    if (ok && !entry) {
      // a quick check that found nothing to do: no toast for it
      return;
    }
    const review = this._review;
    const actions =
      event.phase === 'trust' && review
        ? [{ label: 'Review', callback: () => review() }]
        : undefined;
    Notification.emit(message, type, { autoClose, actions });
  }

  dispose(): void {
    for (const timer of this._pending.values()) {
      window.clearTimeout(timer);
    }
    this._pending.clear();
  }

  private _show(key: string, event: IEnvBuildEvent): void {
    const label = this._label(event);
    const counts = formatCounts(event);
    const phase = event.phase
      ? `${event.phase}${counts ? ` ${counts}` : ''}`
      : counts;
    const progress = progressFraction(event);
    const message = `Environment ${label}: ${phase}${
      event.message ? ` — ${event.message}` : ''
    }`;
    const entry = this._active.get(key);
    if (entry) {
      if (entry.dismissed) {
        return;
      }
      const updated = Notification.update({
        id: entry.id,
        message,
        type: 'in-progress',
        autoClose: false,
        progress
      });
      if (!updated) {
        entry.dismissed = true;
      }
      return;
    }
    const id = Notification.emit(message, 'in-progress', {
      autoClose: false,
      progress
    });
    this._active.set(key, { id, dismissed: false });
  }

  private _label: ProjectLabeler;
  private _review: (() => void) | undefined;
  private _active = new Map<string, IBuildToast>();
  private _pending = new Map<string, number>();
  private _latest = new Map<string, IEnvBuildEvent>();
  /** The last "phase done/total" of each build in flight. */
  private _counts = new Map<string, string>();
}
