/**
 * Status bar item: `envlock: <project> · <state>`; a click opens the panel.
 */
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { EnvlockModel } from './model';

export class EnvlockStatusItem extends Widget {
  constructor(model: EnvlockModel, onClick: () => void) {
    super();
    this._model = model;
    this.addClass('jp-EnvlockStatus');
    this.addClass('jp-StatusBar-TextItem');
    this.node.dataset.testid = 'envlock-statusbar';
    this.node.setAttribute('role', 'button');
    this.node.tabIndex = 0;
    this.node.addEventListener('click', () => onClick());
    this.node.addEventListener('keydown', event => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        onClick();
      }
    });
    model.changed.connect(this._onChanged, this);
    this._render();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._model.changed.disconnect(this._onChanged, this);
    this._model.setConsumerActive('statusbar', false);
    super.dispose();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this._syncActive();
  }

  protected onBeforeDetach(msg: Message): void {
    this._model.setConsumerActive('statusbar', false);
    super.onBeforeDetach(msg);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._syncActive();
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._syncActive();
  }

  private _onChanged(): void {
    this._render();
    this._syncActive();
  }

  private _syncActive(): void {
    const shown =
      this.isAttached && !this.isHidden && this._model.project !== null;
    this._model.setConsumerActive('statusbar', shown);
  }

  private _render(): void {
    const project = this._model.project;
    const state = this._model.state;
    const text = project ? `envlock: ${project.name} · ${state}` : 'envlock';
    if (this.node.textContent !== text) {
      this.node.textContent = text;
    }
    this.node.dataset.state = state;
    this.node.title = project
      ? `Project ${project.name} (${project.kernel_name}): ${state}. Click to open the Environment panel.`
      : 'Open the Environment panel';
  }

  private _model: EnvlockModel;
}
