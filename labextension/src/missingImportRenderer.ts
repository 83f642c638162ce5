/**
 * The renderer of the missing-import hint under a failed import: what
 * provides the module, the `%dep` line, and a button that adds it to the
 * project (or syncs the environment) and then re-runs the cell that failed.
 * Nothing is installed without the click. Registered as not `safe`: in an
 * untrusted notebook (one opened from elsewhere with its outputs) the hint
 * shows as plain text, without a button.
 */
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

import {
  actionLabel,
  hintText,
  IMissingImport,
  MISSING_IMPORT_MIME,
  readMissingImport
} from './missingImport';

/** What the renderer asks of the application. */
export interface IMissingImportHost {
  /** Add the distribution to (or sync) the kernel's project; the error message, or null when it worked. */
  fix(hint: IMissingImport): Promise<string | null>;
  /** Re-run the notebook cell whose output holds `node`. */
  rerun(node: HTMLElement): Promise<void>;
}

export class MissingImportRenderer
  extends Widget
  implements IRenderMime.IRenderer
{
  constructor(options: IRenderMime.IRendererOptions, host: IMissingImportHost) {
    super();
    this._mimeType = options.mimeType;
    this._host = host;
    this.addClass('jp-EnvlockMissingImport');
    this.node.dataset.testid = 'envlock-missing-import';
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const hint = readMissingImport(model.data[this._mimeType]);
    this.node.replaceChildren();
    if (!hint) {
      const plain = model.data['text/plain'];
      this.node.textContent = typeof plain === 'string' ? plain : '';
      return;
    }
    this.node.dataset.action = hint.action;
    this.node.dataset.distribution = hint.distribution;

    const text = document.createElement('span');
    text.className = 'jp-EnvlockMissingImport-text';
    text.textContent = hintText(hint);

    const button = document.createElement('button');
    button.className = 'jp-EnvlockPanel-button jp-mod-accept';
    button.dataset.testid = 'envlock-missing-import-action';
    button.textContent = actionLabel(hint);
    button.title =
      hint.action === 'add'
        ? `Runs ${hint.command} for this notebook's project, then runs this cell again`
        : 'Makes the environment match the lock, then runs this cell again';

    const command = document.createElement('code');
    command.className = 'jp-EnvlockMissingImport-command';
    command.textContent = hint.command;

    const status = document.createElement('span');
    status.className = 'jp-EnvlockMissingImport-status';
    status.dataset.testid = 'envlock-missing-import-status';
    status.setAttribute('role', 'status');

    button.addEventListener('click', () => {
      void this._click(hint, button, status);
    });
    this.node.append(text, button, command, status);
  }

  private async _click(
    hint: IMissingImport,
    button: HTMLButtonElement,
    status: HTMLElement
  ): Promise<void> {
    button.disabled = true;
    status.classList.remove('jp-mod-error');
    status.textContent =
      hint.action === 'add'
        ? `Adding ${hint.distribution}…`
        : 'Syncing the environment…';
    const error = await this._host.fix(hint);
    if (error !== null) {
      button.disabled = false;
      status.classList.add('jp-mod-error');
      status.textContent = error;
      return;
    }
    status.textContent = 'Done: running the cell again…';
    // the re-run replaces this output (and disposes this widget)
    await this._host.rerun(this.node);
  }

  private _mimeType: string;
  private _host: IMissingImportHost;
}

/** The renderer factory (registered with the application's rendermime registry). */
export function missingImportFactory(
  host: IMissingImportHost
): IRenderMime.IRendererFactory {
  return {
    safe: false,
    mimeTypes: [MISSING_IMPORT_MIME],
    defaultRank: 50, // ahead of text/plain, which the bundle carries too
    createRenderer: options => new MissingImportRenderer(options, host)
  };
}
