/**
 * Status bar item: `envlock: <project> · <state>` (the build's phase and
 * counts while one runs); a click opens the panel. Notebook 7 has no status
 * bar: there the same item sits in each notebook's toolbar.
 */
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { progressFraction, statusLine } from './counts';
import { EnvlockModel } from './model';

/** Where the item is shown: it names the poll consumer and the test id. */
export type StatusItemPlace = 'statusbar' | 'toolbar';

let toolbarItems = 0;

export class EnvlockStatusItem extends Widget {
  constructor(
    model: EnvlockModel,
    onClick: () => void,
    place: StatusItemPlace = 'statusbar'
  ) {
    super();
    this._model = model;
    this._consumer =
      place === 'statusbar' ? 'statusbar' : `toolbar:${++toolbarItems}`;
    this.addClass('jp-EnvlockStatus');
    this.addClass(
      place === 'statusbar' ? 'jp-StatusBar-TextItem' : 'jp-EnvlockToolbarItem'
    );
    this.node.dataset.testid = `envlock-${place}`;
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
    this._model.setConsumerActive(this._consumer, false);
    super.dispose();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this._syncActive();
  }

  protected onBeforeDetach(msg: Message): void {
    this._model.setConsumerActive(this._consumer, false);
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
    this._model.setConsumerActive(this._consumer, shown);
  }

  private _render(): void {
    const project = this._model.project;
    const state = this._model.state;
    const build = this._model.build;
    const text = statusLine(project?.name ?? null, state, build);
    if (this.node.textContent !== text) {
      this.node.textContent = text;
    }
    this.node.dataset.state = state;
    const fraction = build ? progressFraction(build) : undefined;
    if (fraction === undefined) {
      this.node.style.removeProperty('--jp-envlock-progress');
    } else {
      this.node.style.setProperty(
        '--jp-envlock-progress',
        `${Math.round(fraction * 100)}%`
      );
    }
    this.node.title = project
      ? `Project ${project.name} (${project.kernel_name}): ${state}. Click to open the Environment panel.`
      : 'Open the Environment panel';
  }

  private _model: EnvlockModel;
  private _consumer: string;
}
