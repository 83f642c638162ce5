/**
 * The Environment panel: a right-sidebar widget around the React view
 * (components/EnvironmentView). The model polls the project's status while
 * the panel is shown.
 */
import { ReactWidget, UseSignal } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import React from 'react';

import { EnvironmentView } from './components/EnvironmentView';
import { envlockIcon } from './icons';
import { EnvlockModel } from './model';

export const PANEL_ID = 'jupyter-envlock:panel';

/** Lumino wrapper: a sidebar widget around the React view. */
export class EnvlockPanel extends ReactWidget {
  constructor(model: EnvlockModel) {
    super();
    this._model = model;
    this.id = PANEL_ID;
    this.addClass('jp-EnvlockPanel');
    this.node.dataset.testid = 'envlock-panel';
    this.title.icon = envlockIcon;
    this.title.caption = 'Project environment (envlock)';
  }

  render(): JSX.Element {
    return (
      <UseSignal signal={this._model.changed}>
        {() => <EnvironmentView model={this._model} />}
      </UseSignal>
    );
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._model.setConsumerActive('panel', true);
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._model.setConsumerActive('panel', false);
  }

  protected onBeforeDetach(msg: Message): void {
    this._model.setConsumerActive('panel', false);
    super.onBeforeDetach(msg);
  }

  private _model: EnvlockModel;
}
