/**
 * Typed client for the jupyter-envlock REST API (`<baseUrl>/jupyter-envlock/...`).
 *
 * The shapes below mirror `docs/architecture.md`: they are what the server's
 * `.to_dict()` results serialize to, so keep both in step. Their names are
 * the server's with JupyterLab's `I` prefix for interfaces (`ChangeReport`
 * is `IChangeReport` here).
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** URL namespace of the server extension. */
export const NAMESPACE = 'jupyter-envlock';

/** Schema id of the env-build progress events on the server's event bus. */
export const ENV_BUILD_SCHEMA_ID =
  'https://jupyter-envlock.readthedocs.io/events/env-build/v1';

/** Prefix of the kernel spec names the server adds, one per project. */
export const KERNEL_NAME_PREFIX = 'envlock-';

/**
 * The combined state of a project, as computed by the server. `busy`: another
 * command (a `%dep` in a kernel, a kernel start, the CLI) holds the project's
 * lock, so the lock and env may be mid-write: not drift.
 */
export type ProjectState =
  | 'in-sync'
  | 'lock-out-of-date'
  | 'env-out-of-date'
  | 'no-lock'
  | 'no-env'
  | 'busy';

export type LockState = 'in-sync' | 'stale' | 'missing';
export type EnvState = 'in-sync' | 'out-of-date' | 'missing';

/**
 * Which tool owns the project's lock: envlock's own pylock.toml, uv or Poetry;
 * PDM and Hatch projects are built from a pylock.toml their tool wrote.
 */
export type ManagerName = 'pylock' | 'uv' | 'poetry' | 'pdm' | 'hatch';

/** A folder that is not an envlock project, by the tool it belongs to. */
export type OtherFolderKind = 'requirements' | 'pipenv' | 'conda';

/** A project as it appears inside Status and ChangeReport (`path` is absolute there). */
export interface IProjectInfo {
  name: string;
  path: string;
  kernel_name: string;
  manager: ManagerName;
}

/**
 * One entry of `GET projects` (`path` relative to the server root, "." for the
 * root itself). A project the server could not read has `state: "error"`, a
 * `message`, and possibly no kernel name. A folder that is not a project (a
 * requirements.txt, Pipenv or conda folder) has `state: "not-a-project"`, its
 * `kind`, no kernel name, and a `message` saying what envlock can do with it.
 */
export interface IProjectSummary {
  name: string;
  path: string;
  kernel_name: string | null;
  state: ProjectState | 'error' | 'not-a-project';
  message?: string;
  kind?: OtherFolderKind;
}

export interface IDriftMissing {
  name: string;
  locked: string | null;
}

export interface IDriftExtra {
  name: string;
  installed: string | null;
}

export interface IDriftChanged {
  name: string;
  locked: string | null;
  installed: string | null;
}

export interface IDrift {
  missing: IDriftMissing[];
  extra: IDriftExtra[];
  changed: IDriftChanged[];
}

/**
 * Something the server wants the user to know about the environment, say a
 * package with a front-end part (ipywidgets) at a version the server's lab
 * extension cannot render (`kind: "widgets"`).
 */
export interface IStatusWarning {
  kind: string;
  message: string;
  package?: string;
  installed?: string | null;
  supported?: string | null;
}

/** What building a project's env would do, told before it is trusted. */
export interface IBuildPlan {
  /** Packages the lock installs on this machine; `null` while there is no lock. */
  packages: number | null;
  /** Where they come from (credentials stripped). */
  indexes: string[];
  /** Packages built from source: their build code runs. */
  source_builds: string[];
  /** The project itself is installed editable: its build backend runs. */
  editable: boolean;
}

/** Why a project is trusted (`null`: it is not). */
export type TrustSource = 'user' | 'created' | 'built-before' | 'server';

/**
 * Whether envlock may build and run the project on its own (a kernel start,
 * the panel's actions), why, and what building would do.
 */
export interface ITrust {
  trusted: boolean;
  source: TrustSource | null;
  plan: IBuildPlan;
}

export interface IStatus {
  project: IProjectInfo;
  python: string | null;
  env_path: string | null;
  lock: LockState;
  env: EnvState;
  state: ProjectState;
  /** Another command holds the project's lock (then `state` is `busy`). */
  busy?: boolean;
  drift: IDrift;
  /** Empty or absent when there is nothing to say. */
  warnings?: IStatusWarning[];
  /** What the user must know first (a missing tool, another tool's project). */
  notes?: string[];
  /** Absent from servers older than the trust step. */
  trust?: ITrust | null;
}

export interface IDependency {
  name: string;
  requirement: string;
  /** `null` for `[project].dependencies`, else the PEP 735 group name. */
  group: string | null;
  locked: string | null;
  /** Set for an optional dependency: the extra of `[project.optional-dependencies]`. */
  extra?: string;
}

export type ChangeKind = 'added' | 'removed' | 'upgraded' | 'downgraded';
export type EditKind = 'added' | 'replaced' | 'unchanged' | 'removed';

/** What an add or remove did to one requirement of pyproject.toml. */
export interface IEdit {
  name: string;
  kind: EditKind;
  old: string | null;
  new: string | null;
}

export interface IChange {
  name: string;
  old: string | null;
  new: string | null;
  kind: ChangeKind;
}

export interface IEnvReport {
  path: string;
  python: string | null;
  synced: boolean;
  noop: boolean;
  installed: string[];
  removed: string[];
}

export interface IChangeReport {
  project: IProjectInfo;
  edits: IEdit[];
  manifest_changed: boolean;
  lock_changed: boolean;
  relocked: boolean;
  changes: IChange[];
  /** Absent or null when the operation did not touch the environment. */
  env?: IEnvReport | null;
}

/** Answer of `GET projects`. */
export interface IProjectList {
  projects: IProjectSummary[];
}

/** Answer of `GET project?path=`. */
export interface IProjectDetails {
  status: IStatus;
  dependencies: IDependency[];
}

/** One locked package of `GET project/tree`. */
export interface ILockedPackage {
  name: string;
  version: string | null;
  /** A direct dependency (listed in pyproject.toml). */
  direct: boolean;
  /** Where it is a direct dependency: `null` is `[project].dependencies`. */
  groups: Array<string | null>;
  /** The locked packages that depend on it directly, sorted. */
  required_by: string[];
  /** What the kernel itself needs (ipykernel, pip and theirs). */
  kernel?: boolean;
}

/** Answer of `GET project/tree?path=`. */
export interface IPackageTree {
  packages: ILockedPackage[];
  /** False while there is no environment to read who requires whom from. */
  required_by_known?: boolean;
}

/** One direct dependency with a newer version (`GET project/outdated`). */
export interface IOutdatedPackage {
  name: string;
  group: string | null;
  requirement: string;
  locked: string | null;
  /** The newest version the manifest's specifiers allow. */
  allowed: string | null;
  /** The newest version on the project's indexes. */
  latest: string | null;
}

/**
 * Answer of `GET project/outdated?path=`: `checked: false` with a message
 * when the indexes could not be reached (nothing changed then).
 */
export interface IOutdatedReport {
  checked: boolean;
  message: string | null;
  outdated: IOutdatedPackage[];
}

/** One env-build progress event, as delivered by the event bus. */
export interface IEnvBuildEvent {
  schema_id: string;
  /** Relative to the server root ("." for the root), or absolute for installed specs. */
  project: string;
  kernel_name: string;
  kernel_id?: string | null;
  phase: string;
  message: string;
  done: number | null;
  total: number | null;
  state: 'running' | 'success' | 'error';
}

/** An error answered by the server: `{"error": {"type", "message", "details"}}`. */
export class EnvlockAPIError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly type: string = '',
    readonly details: string = ''
  ) {
    super(message);
    this.name = 'EnvlockAPIError';
  }
}

/**
 * Call the envlock REST API.
 *
 * @param endpoint path below `<baseUrl>/jupyter-envlock/` (may carry a query string)
 * @param init the fetch options
 * @returns the decoded JSON answer
 * @throws EnvlockAPIError carrying the server's `error.message`
 */
export async function requestAPI<T>(
  endpoint = '',
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, NAMESPACE, endpoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }

  const text = await response.text();
  let data: any = null;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }

  if (!response.ok) {
    const err = data && typeof data === 'object' ? data.error : null;
    let message: string;
    if (err && typeof err === 'object' && err.message) {
      message = String(err.message);
    } else if (err && typeof err === 'string') {
      message = err;
    } else if (data && typeof data === 'object' && data.message) {
      // jupyter_server's own JSON error pages
      message = String(data.message);
    } else {
      message = `${response.status} ${response.statusText || 'error'} (${url})`;
    }
    throw new EnvlockAPIError(
      message,
      response.status,
      err && typeof err === 'object' ? String(err.type ?? '') : '',
      err && typeof err === 'object' ? String(err.details ?? '') : ''
    );
  }
  if (data === null && text.length > 0) {
    throw new EnvlockAPIError(
      `Invalid JSON answer from ${url}`,
      response.status
    );
  }
  return data as T;
}

function post<T>(endpoint: string, body: unknown): Promise<T> {
  return requestAPI<T>(endpoint, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' }
  });
}

/** `GET projects` */
export function listProjects(): Promise<IProjectList> {
  return requestAPI<IProjectList>('projects');
}

/** `GET project?path=` */
export function getProject(path: string): Promise<IProjectDetails> {
  return requestAPI<IProjectDetails>(
    `project?path=${encodeURIComponent(path)}`
  );
}

/** `POST project/add` */
export function addDependencies(
  path: string,
  specs: string[],
  group: string | null = null
): Promise<IChangeReport> {
  return post<IChangeReport>('project/add', { path, specs, group });
}

/** `POST project/remove` */
export function removeDependencies(
  path: string,
  names: string[],
  group: string | null = null
): Promise<IChangeReport> {
  return post<IChangeReport>('project/remove', { path, names, group });
}

/** `POST project/sync` */
export function syncProject(path: string): Promise<IChangeReport> {
  return post<IChangeReport>('project/sync', { path });
}

/** `POST project/init`: make a requirements.txt folder a project. */
export function initProject(path: string): Promise<IChangeReport> {
  return post<IChangeReport>('project/init', { path });
}

/** `POST project/lock` */
export function lockProject(
  path: string,
  upgrade = false
): Promise<IChangeReport> {
  return post<IChangeReport>('project/lock', { path, upgrade });
}

/** `GET project/tree?path=` */
export function getPackageTree(path: string): Promise<IPackageTree> {
  return requestAPI<IPackageTree>(
    `project/tree?path=${encodeURIComponent(path)}`
  );
}

/** `GET project/outdated?path=` (asks the project's indexes) */
export function getOutdated(path: string): Promise<IOutdatedReport> {
  return requestAPI<IOutdatedReport>(
    `project/outdated?path=${encodeURIComponent(path)}`
  );
}

/** `POST project/upgrade`: the named packages, or all (`names` null). */
export function upgradePackages(
  path: string,
  names: string[] | null
): Promise<IChangeReport> {
  return post<IChangeReport>(
    'project/upgrade',
    names === null ? { path, all: true } : { path, names }
  );
}

/** `POST project/trust`: the user trusts the project (the trust card's button). */
export function trustProject(path: string): Promise<{ trust: ITrust }> {
  return post<{ trust: ITrust }>('project/trust', { path });
}
