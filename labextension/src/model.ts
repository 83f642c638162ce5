/**
 * State shared by the Environment panel and the status bar item: which project
 * the current notebook belongs to, its status and dependencies, the action in
 * flight, build progress from the event bus, errors and the restart prompt.
 */
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { CommandRegistry } from '@lumino/commands';
import { Debouncer, IPoll, Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import {
  addDependencies,
  getOutdated,
  getPackageTree,
  getProject,
  IChangeReport,
  IDependency,
  IEnvBuildEvent,
  IOutdatedReport,
  IPackageTree,
  IProjectDetails,
  initProject,
  IProjectSummary,
  listProjects,
  lockProject,
  removeDependencies,
  syncProject,
  trustProject,
  upgradePackages
} from './api';
import {
  IProjectLocation,
  normalizePath,
  outsideWarning,
  projectLocation,
  resolveProject
} from './resolve';
import { DisplayState, displayState, isServerBusy } from './state';

export { normalizePath, resolveProject };

export interface IBuildProgress {
  phase: string;
  message: string;
  done: number | null;
  total: number | null;
}

export interface IRestartPrompt {
  reason: string;
}

/** JupyterLab's (and Notebook 7's) command behind "Restart and run up to this cell". */
export const RESTART_AND_RUN_COMMAND = 'notebook:restart-and-run-to-selected';

/** How often the project status is polled while someone looks at it (ms). */
export const POLL_INTERVAL = 3000;
/** While another command holds the project's lock, look again this soon (ms). */
export const BUSY_POLL_INTERVAL = 1000;
/** Re-read the project list every this many polls. */
const PROJECTS_EVERY = 5;
/** A burst of refresh requests (say, several cells run) collapses into one this long after the last (ms). */
const REFRESH_DEBOUNCE = 300;

/** The user-facing message of anything thrown. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    return error.message || String(error);
  }
  return String(error);
}

const RESTART_KINDS = new Set(['upgraded', 'downgraded', 'removed']);

export class EnvlockModel {
  /**
   * @param tracker the notebooks to follow
   * @param commands the application's commands (to restart and re-run with
   *   JupyterLab's own command)
   */
  constructor(
    tracker: INotebookTracker | null,
    commands: CommandRegistry | null = null
  ) {
    this._tracker = tracker;
    this._commands = commands;
    if (tracker) {
      tracker.currentChanged.connect(this._onCurrentChanged, this);
    }
    // Started and stopped by setConsumerActive; skips its turn while the
    // browser tab is hidden or one of our own actions runs.
    this._poll = new Poll({
      name: 'jupyter-envlock:status',
      auto: false,
      factory: state => this._pollOnce(state.phase),
      frequency: { interval: POLL_INTERVAL, backoff: false },
      linger: 0,
      standby: () => this._busy !== null || 'when-hidden'
    });
    this._refreshSoon = new Debouncer(() => this.refresh(), REFRESH_DEBOUNCE);
    this._recheckBusy = new Debouncer(() => this.refresh(), BUSY_POLL_INTERVAL);
  }

  /** Emitted on any change of what the views show. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emitted when the project shown changes (also to/from none). */
  get projectChanged(): ISignal<this, void> {
    return this._projectChanged;
  }

  get projects(): readonly IProjectSummary[] {
    return this._projects;
  }

  get project(): IProjectSummary | null {
    return this._project;
  }

  /** Whether the project was chosen by hand instead of following the notebook. */
  get pinned(): boolean {
    return this._pinned !== null;
  }

  get details(): IProjectDetails | null {
    return this._details;
  }

  get notebook(): NotebookPanel | null {
    return this._notebook;
  }

  /** Label of the action in flight, or null. */
  get busy(): string | null {
    return this._busy;
  }

  get build(): IBuildProgress | null {
    return this._build;
  }

  get error(): string | null {
    return this._error;
  }

  get restartPrompt(): IRestartPrompt | null {
    return this._restart;
  }

  get lastReport(): IChangeReport | null {
    return this._lastReport;
  }

  /**
   * Whether another command (a `%dep` in a kernel, a kernel start, the CLI)
   * holds the project's lock: its lock and env may be mid-write.
   */
  get serverBusy(): boolean {
    return isServerBusy(this._details?.status ?? null, this._project);
  }

  /**
   * An action or a build just ended and the status from before it is all we
   * have: keep showing `building` until a status read after the end arrives,
   * instead of flashing the old state (say `no-lock` or `lock-out-of-date`).
   */
  get settling(): boolean {
    return this._settleAfter !== null;
  }

  /** Whether the current notebook has a kernel to restart. */
  get canRestart(): boolean {
    return !!this._notebook?.sessionContext.session?.kernel;
  }

  /** Whether "Restart and run up to this cell" can be offered (the command exists). */
  get canRestartAndRun(): boolean {
    return (
      this.canRestart && !!this._commands?.hasCommand(RESTART_AND_RUN_COMMAND)
    );
  }

  /** Where the project lies seen from the current notebook (null: no notebook or project). */
  get location(): IProjectLocation | null {
    if (!this._project) {
      return null;
    }
    return projectLocation(this._project.path, this._notebookPath());
  }

  /**
   * The warning for a notebook outside the project its kernel belongs to
   * (not for a project picked by hand: that is the user's choice).
   */
  get outsideWarning(): string | null {
    if (!this._project || this._pinned !== null) {
      return null;
    }
    return outsideWarning(
      this.location,
      this._project.name,
      this._project.kernel_name
    );
  }

  /** Every locked package (`GET project/tree`), once asked for. */
  get tree(): IPackageTree | null {
    return this._tree;
  }

  get treeError(): string | null {
    return this._treeError;
  }

  /** The last "Outdated" check, if one was made for this project. */
  get outdated(): IOutdatedReport | null {
    return this._outdated;
  }

  /** An "Outdated" check is asking the indexes. */
  get checkingOutdated(): boolean {
    return this._checkingOutdated;
  }

  get state(): DisplayState {
    return displayState({
      working: this._build !== null || this._busy !== null || this.settling,
      failed: this._buildFailed || this._loadFailed,
      status: this._details?.status ?? null,
      summary: this._project
    });
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._poll.dispose();
    this._refreshSoon.dispose();
    this._recheckBusy.dispose();
    if (this._tracker) {
      this._tracker.currentChanged.disconnect(this._onCurrentChanged, this);
    }
    this._watchNotebook(null);
    Signal.clearData(this);
  }

  /** Start following the tracker's current notebook and load the project list. */
  async start(): Promise<void> {
    this._watchNotebook(this._tracker?.currentWidget ?? null);
    await this.refreshProjects();
  }

  /**
   * Tell the model whether a view is shown; the status is polled only while
   * at least one is.
   */
  setConsumerActive(key: string, active: boolean): void {
    const was = this._consumers.size > 0;
    if (active) {
      this._consumers.add(key);
    } else {
      this._consumers.delete(key);
    }
    const is = this._consumers.size > 0;
    if (is && !was) {
      void this._poll.start(); // its first tick reads the status at once
    } else if (!is && was) {
      void this._poll.stop();
    }
  }

  /** Show a project chosen by hand (null: follow the notebook again). */
  selectProject(path: string | null): void {
    this._pinned = path === null ? null : normalizePath(path);
    this._updateProject();
  }

  /** Re-read the project list and re-resolve the current project. */
  async refreshProjects(): Promise<void> {
    try {
      const answer = await listProjects();
      this._projects = answer.projects ?? [];
      if (this._loadFailed && !this._project) {
        this._loadFailed = false;
        this._error = null;
      }
    } catch (error) {
      this._loadFailed = true;
      this._error = `Could not list projects: ${errorMessage(error)}`;
      this._emit();
      return;
    }
    this._updateProject();
    this._emit();
  }

  /** Re-read the current project's status and dependencies. */
  async refresh(): Promise<void> {
    if (this._refreshing) {
      this._refreshAgain = true;
      return this._refreshing;
    }
    this._refreshing = this._doRefresh();
    try {
      await this._refreshing;
    } finally {
      this._refreshing = null;
    }
    if (this._refreshAgain) {
      this._refreshAgain = false;
      await this.refresh();
    }
  }

  /** Refresh soon, coalescing bursts (e.g. several cells executed). */
  scheduleRefresh(): void {
    if (!this._isDisposed) {
      void this._refreshSoon.invoke();
    }
  }

  /**
   * Add a requirement to the shown project, or to the project at
   * `projectPath` (relative to the server root) when given.
   */
  async add(
    spec: string,
    group: string | null = null,
    projectPath: string | null = null
  ): Promise<boolean> {
    return this._run(
      `Adding ${spec}`,
      path => addDependencies(path, [spec], group),
      false,
      projectPath
    );
  }

  async remove(dep: IDependency): Promise<boolean> {
    return this._run(
      `Removing ${dep.name}`,
      path => removeDependencies(path, [dep.name], dep.group),
      true
    );
  }

  async sync(projectPath: string | null = null): Promise<boolean> {
    return this._run(
      'Syncing the environment',
      path => syncProject(path),
      false,
      projectPath
    );
  }

  /**
   * Re-lock the named packages only (all: null) and install them; the
   * restart advice follows as after any upgrade.
   */
  async upgrade(names: string[] | null): Promise<boolean> {
    const label =
      names === null ? 'Upgrading all' : `Upgrading ${names.join(', ')}`;
    const ok = await this._run(label, path => upgradePackages(path, names));
    if (ok && this._outdated?.checked) {
      await this.checkOutdated(); // what is left to upgrade
    }
    return ok;
  }

  /** Ask the project's indexes what is newer (the "Outdated" button). */
  async checkOutdated(): Promise<void> {
    const project = this._project;
    if (!project || this._checkingOutdated) {
      return;
    }
    this._checkingOutdated = true;
    this._emit();
    try {
      const report = await getOutdated(project.path);
      if (this._isCurrent(project)) {
        this._outdated = report;
      }
    } catch (error) {
      if (this._isCurrent(project)) {
        this._outdated = {
          checked: false,
          message: `Cannot check for newer versions: ${errorMessage(error)}`,
          outdated: []
        };
      }
    } finally {
      this._checkingOutdated = false;
      this._emit();
    }
  }

  /** Show (and load) or hide the list of every locked package. */
  setTreeOpen(open: boolean): void {
    this._treeOpen = open;
    this._emit();
    if (open) {
      void this.loadTree();
    }
  }

  get treeOpen(): boolean {
    return this._treeOpen;
  }

  /** Read every locked package with what requires it. */
  async loadTree(): Promise<void> {
    const project = this._project;
    if (!project) {
      return;
    }
    try {
      const tree = await getPackageTree(project.path);
      if (this._isCurrent(project)) {
        this._tree = tree;
        this._treeError = null;
      }
    } catch (error) {
      if (this._isCurrent(project)) {
        this._treeError = errorMessage(error);
      }
    }
    this._emit();
  }

  /**
   * Make the shown folder (a requirements.txt folder) a project: its
   * pyproject.toml and lock; it then has a kernel of its own.
   */
  async initProject(): Promise<boolean> {
    const ok = await this._run('Making it a project', path =>
      initProject(path)
    );
    if (ok) {
      await this.refreshProjects();
    }
    return ok;
  }

  async relock(): Promise<boolean> {
    return this._run('Re-locking', path => lockProject(path, false));
  }

  /**
   * The fix for a stale or missing lock (say, after a git pull): re-lock,
   * then bring the env in line with the new lock, as one action. A re-lock
   * alone would leave the env out of date, a second fix to click.
   */
  async relockAndSync(): Promise<boolean> {
    return this._run('Re-locking and syncing', async path => {
      const locked = await lockProject(path, false);
      const synced = await syncProject(path);
      return {
        ...locked,
        lock_changed: locked.lock_changed || synced.lock_changed,
        relocked: locked.relocked || synced.relocked,
        changes: [...(locked.changes ?? []), ...(synced.changes ?? [])],
        env: synced.env ?? locked.env ?? null
      };
    });
  }

  /**
   * Restart the kernel and run the cells up to the selected one, with
   * JupyterLab's own command (it asks for confirmation as JupyterLab does).
   */
  async restartAndRunToSelected(): Promise<void> {
    const commands = this._commands;
    if (!commands?.hasCommand(RESTART_AND_RUN_COMMAND) || !this.canRestart) {
      this._error = 'The current notebook has no running kernel to restart.';
      this._emit();
      return;
    }
    this._restart = null;
    this._emit();
    try {
      await commands.execute(RESTART_AND_RUN_COMMAND);
    } catch (error) {
      this._error = `Could not restart the kernel: ${errorMessage(error)}`;
      this._emit();
    }
  }

  /**
   * The trust card's button: trust the project, then build its env with the
   * usual progress by starting the notebook's kernel (whose automatic start
   * was refused), or restarting it; with no notebook of this project open, by
   * a sync.
   */
  async trustAndBuild(): Promise<boolean> {
    return this._run('Trusting and building', async path => {
      await trustProject(path);
      const context = this._notebook?.sessionContext;
      const name = this._project?.kernel_name;
      if (!context || !name || this._notebookKernelName() !== name) {
        return syncProject(path);
      }
      if (context.session?.kernel) {
        await context.restartKernel();
      } else {
        await context.changeKernel({ name });
      }
      return null; // the kernel start built it: its progress and outcome came as events
    });
  }

  /** Restart the current notebook's kernel (the restart prompt's button). */
  async restartKernel(): Promise<void> {
    const context = this._notebook?.sessionContext;
    if (!context?.session?.kernel) {
      this._error = 'The current notebook has no running kernel to restart.';
      this._emit();
      return;
    }
    this._restart = null;
    this._emit();
    try {
      await context.restartKernel();
    } catch (error) {
      this._error = `Could not restart the kernel: ${errorMessage(error)}`;
      this._emit();
    }
  }

  dismissRestart(): void {
    this._restart = null;
    this._emit();
  }

  dismissError(): void {
    this._error = null;
    this._buildFailed = false;
    this._emit();
  }

  /** Feed one env-build event from the server's event bus. */
  handleBuildEvent(event: IEnvBuildEvent): void {
    const project = this._project;
    if (!project) {
      return;
    }
    const sameProject =
      (event.kernel_name && event.kernel_name === project.kernel_name) ||
      (typeof event.project === 'string' &&
        normalizePath(event.project) === normalizePath(project.path));
    if (!sameProject) {
      return;
    }
    switch (event.state) {
      case 'running':
        this._build = {
          phase: event.phase,
          message: event.message,
          done: event.done ?? null,
          total: event.total ?? null
        };
        this._buildFailed = false;
        this._emit();
        break;
      case 'success':
        this._build = null;
        this._buildFailed = false;
        this._settle();
        this._emit();
        void this.refresh();
        break;
      case 'error':
        this._build = null;
        this._settleAfter = null;
        if (event.phase === 'trust') {
          // refused before anything ran: the trust card says why and offers the fix
          this._emit();
          void this.refresh();
          break;
        }
        this._buildFailed = true;
        this._error = event.message || 'The environment build failed.';
        this._emit();
        void this.refresh();
        break;
    }
  }

  /** One action on the current project: busy while it runs, its report (none when it
   * reported through build events), the restart prompt it calls for, then a fresh status. */
  private async _run(
    label: string,
    action: (path: string) => Promise<IChangeReport | null>,
    isRemove = false,
    projectPath: string | null = null
  ): Promise<boolean> {
    const path = projectPath ?? this._project?.path ?? null;
    if (this._busy !== null || path === null) {
      return false;
    }
    // an action on another project than the one shown (the missing-import
    // button of a notebook whose kernel belongs elsewhere) reports there
    const shown =
      this._project !== null &&
      normalizePath(path) === normalizePath(this._project.path);
    this._busy = label;
    this._error = null;
    if (shown) {
      this._lastReport = null;
    }
    this._emit();
    let ok = false;
    try {
      const report = await action(path);
      ok = true;
      if (!shown) {
        return true;
      }
      this._lastReport = report;
      this._buildFailed = false;
      const needsRestart =
        isRemove ||
        (report?.changes ?? []).some(change => RESTART_KINDS.has(change.kind));
      if (needsRestart) {
        this._restart = {
          reason: isRemove
            ? 'Modules already imported from removed packages stay loaded until the kernel restarts.'
            : 'Packages were upgraded, downgraded or removed: restart the kernel to use the new versions.'
        };
      }
    } catch (error) {
      this._error = errorMessage(error);
    } finally {
      this._busy = null;
      if (ok && shown) {
        this._settle();
      }
      this._emit();
    }
    await this.refresh();
    if (ok && this._tree !== null) {
      await this.loadTree(); // versions may have changed
    }
    return ok;
  }

  /** Show `building` until a status read that starts from now on arrives. */
  private _settle(): void {
    this._settleAfter = this._refreshCount;
  }

  private async _doRefresh(): Promise<void> {
    const project = this._project;
    if (!project || project.state === 'not-a-project') {
      return; // nothing to read until it is one (initProject)
    }
    const count = ++this._refreshCount;
    try {
      const details = await getProject(project.path);
      if (!this._isCurrent(project)) {
        return; // the user moved on meanwhile
      }
      const key = JSON.stringify([
        details.dependencies,
        details.status?.lock,
        details.status?.env
      ]);
      const moved = this._treeKey !== null && key !== this._treeKey;
      this._treeKey = key;
      if (moved && this._treeOpen) {
        void this.loadTree(); // say a %dep add in a cell changed the lock
      }
      this._details = details;
      if (this._settleAfter !== null && count > this._settleAfter) {
        this._settleAfter = null;
      }
      if (this._loadFailed) {
        this._loadFailed = false;
        this._error = null;
      }
      if (this.serverBusy) {
        // show the real state soon after the other command lets go
        void this._recheckBusy.invoke();
      }
    } catch (error) {
      if (!this._isCurrent(project)) {
        return;
      }
      this._settleAfter = null;
      this._loadFailed = true;
      this._error = errorMessage(error);
    }
    this._emit();
  }

  private _isCurrent(project: IProjectSummary): boolean {
    return (
      !this._isDisposed &&
      this._project !== null &&
      normalizePath(this._project.path) === normalizePath(project.path)
    );
  }

  private _onCurrentChanged(
    _: INotebookTracker,
    panel: NotebookPanel | null
  ): void {
    this._watchNotebook(panel);
    // A new notebook may sit in a project created since the last listing.
    void this.refreshProjects();
  }

  private _watchNotebook(panel: NotebookPanel | null): void {
    if (panel === this._notebook) {
      return;
    }
    const old = this._notebook;
    if (old) {
      old.sessionContext.kernelChanged.disconnect(this._onKernelChanged, this);
      old.sessionContext.kernelPreferenceChanged.disconnect(
        this._onKernelChanged,
        this
      );
      old.disposed.disconnect(this._onNotebookDisposed, this);
    }
    this._notebook = panel;
    this._pinned = null;
    if (panel) {
      panel.sessionContext.kernelChanged.connect(this._onKernelChanged, this);
      panel.sessionContext.kernelPreferenceChanged.connect(
        this._onKernelChanged,
        this
      );
      panel.disposed.connect(this._onNotebookDisposed, this);
      void panel.sessionContext.ready.then(() => {
        if (this._notebook === panel) {
          this._updateProject();
        }
      });
    }
    this._updateProject();
    this._emit();
  }

  private _onNotebookDisposed(): void {
    this._watchNotebook(this._tracker?.currentWidget ?? null);
  }

  private _onKernelChanged(): void {
    this._updateProject();
  }

  private _notebookKernelName(): string | null {
    const panel = this._notebook;
    if (!panel) {
      return null;
    }
    const context = panel.sessionContext;
    const fromSession = context.session?.kernel?.name;
    if (fromSession) {
      return fromSession;
    }
    const fromPreference = context.kernelPreference?.name;
    if (fromPreference) {
      return fromPreference;
    }
    const spec = panel.model?.getMetadata('kernelspec') as
      { name?: string } | undefined;
    return spec?.name ?? null;
  }

  private _notebookPath(): string | null {
    const panel = this._notebook;
    if (!panel) {
      return null;
    }
    return panel.context.localPath ?? panel.context.path;
  }

  private _updateProject(): void {
    let next: IProjectSummary | null;
    if (this._pinned !== null) {
      const pinned = this._pinned;
      next = this._projects.find(p => normalizePath(p.path) === pinned) ?? null;
    } else {
      next = resolveProject(
        this._projects,
        this._notebookKernelName(),
        this._notebookPath()
      );
    }
    const prev = this._project;
    const same =
      prev !== null &&
      next !== null &&
      normalizePath(prev.path) === normalizePath(next.path);
    if (same) {
      // keep identity-sensitive state, take the fresher summary
      this._project = next;
      return;
    }
    if (prev === null && next === null) {
      return;
    }
    this._project = next;
    this._details = null;
    this._settleAfter = null;
    this._build = null;
    this._buildFailed = false;
    this._lastReport = null;
    this._restart = null;
    this._tree = null;
    this._treeError = null;
    this._treeKey = null;
    this._outdated = null;
    if (this._loadFailed) {
      this._loadFailed = false;
      this._error = null;
    }
    if (!this._busy) {
      this._error = null;
    }
    this._projectChanged.emit();
    this._emit();
    if (next) {
      void this.refresh();
      if (this._treeOpen) {
        void this.loadTree(); // the list stays open for the next project
      }
    }
  }

  /**
   * One turn of the poll: the status; every PROJECTS_EVERY turns, and while
   * no project is found, the project list too. The first turn after a view
   * appeared reads the status only.
   */
  private async _pollOnce(phase: IPoll.Phase<'standby'>): Promise<void> {
    if (phase === 'started') {
      await this.refresh();
      return;
    }
    this._ticks += 1;
    const reads: Promise<void>[] = [];
    if (this._ticks % PROJECTS_EVERY === 0 || this._project === null) {
      reads.push(this.refreshProjects());
    }
    if (this._project !== null) {
      reads.push(this.refresh());
    }
    await Promise.all(reads);
  }

  private _emit(): void {
    if (!this._isDisposed) {
      this._changed.emit();
    }
  }

  private _tracker: INotebookTracker | null;
  private _commands: CommandRegistry | null;
  private _tree: IPackageTree | null = null;
  private _treeError: string | null = null;
  private _treeOpen = false;
  private _treeKey: string | null = null;
  private _outdated: IOutdatedReport | null = null;
  private _checkingOutdated = false;
  private _notebook: NotebookPanel | null = null;
  private _projects: IProjectSummary[] = [];
  private _project: IProjectSummary | null = null;
  private _pinned: string | null = null;
  private _details: IProjectDetails | null = null;
  private _busy: string | null = null;
  private _build: IBuildProgress | null = null;
  private _buildFailed = false;
  private _loadFailed = false;
  private _error: string | null = null;
  private _restart: IRestartPrompt | null = null;
  private _lastReport: IChangeReport | null = null;
  private _consumers = new Set<string>();
  private _poll: Poll;
  private _ticks = 0;
  private _refreshSoon: Debouncer;
  private _recheckBusy: Debouncer;
  private _refreshing: Promise<void> | null = null;
  private _refreshCount = 0;
  private _settleAfter: number | null = null;
  private _refreshAgain = false;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
  private _projectChanged = new Signal<this, void>(this);
}
