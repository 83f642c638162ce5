/**
 * jupyter-envlock: JupyterLab (and Jupyter Notebook 7) side.
 *
 * - an Environment panel in the right sidebar that follows the current notebook,
 * - a status bar item `envlock: <project> · <state>`; Notebook 7 has no
 *   status bar, so there the item sits in the notebook's toolbar,
 * - notifications with env-build progress from the server's event bus,
 * - drift polling and refresh after each executed cell (so `%dep add` shows),
 * - the missing-import hint under a failed import: a button that adds the
 *   package and re-runs the cell.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import {
  INotebookTracker,
  NotebookActions,
  NotebookPanel
} from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { IStatusBar } from '@jupyterlab/statusbar';

import { IEnvBuildEvent, KERNEL_NAME_PREFIX } from './api';
import { rerunCellOf } from './cells';
import { envlockIcon } from './icons';
import { IMissingImport } from './missingImport';
// Activation needs these at once: the sidebar tab, the status bar item and
// the build notifications exist from the start.
/* eslint-disable jupyter/prefer-lazy-imports */
import { missingImportFactory } from './missingImportRenderer';
import { errorMessage, EnvlockModel, normalizePath } from './model';
import { EnvlockPanel, PANEL_ID } from './panel';
import { BuildNotifier, defaultLabel, isEnvBuildEvent } from './progress';
import { EnvlockStatusItem } from './statusbar';
/* eslint-enable jupyter/prefer-lazy-imports */

/** The commands take no arguments: their schema, for tools that list and run commands. */
const NO_ARGS = { args: { type: 'object', properties: {} } };

namespace CommandIDs {
  export const open = 'jupyter-envlock:open';
  export const sync = 'jupyter-envlock:sync';
  export const relock = 'jupyter-envlock:relock';
  export const refresh = 'jupyter-envlock:refresh';
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-envlock:plugin',
  description:
    'Environment panel, status bar item and build progress for jupyter-envlock projects.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [IStatusBar, ILayoutRestorer, ICommandPalette, IRenderMimeRegistry],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    statusBar: IStatusBar | null,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    rendermime: IRenderMimeRegistry | null
  ): void => {
    const model = new EnvlockModel(tracker, app.commands);
    const panel = new EnvlockPanel(model);
    panel.title.label = '';
    app.shell.add(panel, 'right', { rank: 650, type: 'Environment' });
    if (restorer) {
      restorer.add(panel, PANEL_ID);
    }

    const { commands } = app;
    commands.addCommand(CommandIDs.open, {
      label: 'Show Project Environment',
      describedBy: NO_ARGS,
      caption: 'Open the envlock Environment panel',
      icon: envlockIcon,
      execute: () => app.shell.activateById(PANEL_ID)
    });
    commands.addCommand(CommandIDs.sync, {
      label: 'Sync Project Environment',
      describedBy: NO_ARGS,
      isEnabled: () => model.project !== null && model.busy === null,
      execute: () => model.sync()
    });
    commands.addCommand(CommandIDs.relock, {
      label: 'Re-lock Project',
      describedBy: NO_ARGS,
      isEnabled: () => model.project !== null && model.busy === null,
      execute: () => model.relock()
    });
    commands.addCommand(CommandIDs.refresh, {
      label: 'Refresh Project Environment Status',
      describedBy: NO_ARGS,
      execute: async () => {
        await model.refreshProjects();
        await model.refresh();
      }
    });
    if (palette) {
      const category = 'Project Environment';
      for (const command of Object.values(CommandIDs)) {
        palette.addItem({ command, category });
      }
    }
    model.changed.connect(() => commands.notifyCommandChanged());

    const openPanel = (): void => {
      void commands.execute(CommandIDs.open);
    };
    if (statusBar) {
      const item = new EnvlockStatusItem(model, openPanel);
      statusBar.registerStatusItem('jupyter-envlock:status', {
        item,
        align: 'left',
        rank: 4,
        isActive: () => model.project !== null,
        activeStateChanged: model.projectChanged
      });
    } else {
      // Notebook 7: no status bar; the notebook's toolbar shows the state
      // and the build progress instead (one notebook per page there).
      app.docRegistry.addWidgetExtension('Notebook', {
        createNew: (panel: NotebookPanel) => {
          const item = new EnvlockStatusItem(model, openPanel, 'toolbar');
          if (!panel.toolbar.insertBefore('kernelName', 'envlock', item)) {
            panel.toolbar.addItem('envlock', item);
          }
          return item;
        }
      });
    }

    if (rendermime) {
      rendermime.addFactory(
        missingImportFactory({
          fix: (hint: IMissingImport) => fixMissingImport(model, hint),
          rerun: async node => {
            await rerunCellOf(app, tracker, node);
          }
        })
      );
    }

    // A cell finished (execute_reply): `%dep add` may have changed the project.
    NotebookActions.executed.connect((_, args) => {
      const current = model.notebook;
      if (current && args.notebook === current.content) {
        model.scheduleRefresh();
      }
    });

    // Env-build progress from the server's event bus.
    const label = (event: IEnvBuildEvent): string => {
      const project = model.projects.find(
        p =>
          (event.kernel_name && p.kernel_name === event.kernel_name) ||
          normalizePath(p.path) === normalizePath(event.project)
      );
      return project ? project.name : defaultLabel(event);
    };
    const notifier = new BuildNotifier(label, () => {
      void commands.execute(CommandIDs.open);
    });
    const events = app.serviceManager.events;
    if (events) {
      events.stream.connect((_, emission) => {
        if (!isEnvBuildEvent(emission)) {
          return;
        }
        try {
          notifier.handle(emission);
        } catch (error) {
          console.error(
            'jupyter-envlock: could not show build progress',
            error
          );
        }
        model.handleBuildEvent(emission);
        if (emission.state !== 'running') {
          // the list carries per-project states too
          void model.refreshProjects();
        }
      });
    }

    void app.restored.then(() => model.start());

    console.debug(
      `jupyter-envlock: activated (project kernels are named ${KERNEL_NAME_PREFIX}*)`
    );
  }
};

/**
 * The missing-import button's action: add the distribution to (or sync) the
 * project of the kernel that reported it; the error message, or null.
 */
async function fixMissingImport(
  model: EnvlockModel,
  hint: IMissingImport
): Promise<string | null> {
  const find = () =>
    model.projects.find(
      p => hint.kernel_name !== null && p.kernel_name === hint.kernel_name
    ) ?? null;
  let project = find();
  if (!project) {
    await model.refreshProjects();
    project = find();
  }
  if (!project) {
    return `The project of kernel ${hint.kernel_name ?? '(unknown)'} is not under this server's root: run ${hint.command} in a cell instead.`;
  }
  try {
    const ok =
      hint.action === 'add'
        ? await model.add(hint.distribution, null, project.path)
        : await model.sync(project.path);
    if (ok) {
      return null;
    }
    return model.busy !== null
      ? `${model.busy}: try again when it is done.`
      : (model.error ?? 'It did not work.');
  } catch (error) {
    return errorMessage(error);
  }
}

export default plugin;
