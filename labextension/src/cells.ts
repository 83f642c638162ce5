/**
 * Re-run the notebook cell that holds a node (an output's), with
 * JupyterLab's own command, as a user would: select the cell, run it.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { INotebookTracker } from '@jupyterlab/notebook';

/** JupyterLab's "Run Selected Cell and Do not Advance" (Notebook 7 has it too). */
export const RUN_CELL_COMMAND = 'notebook:run-cell';

export async function rerunCellOf(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  node: HTMLElement
): Promise<boolean> {
  const panel = tracker.find(candidate => candidate.node.contains(node));
  if (!panel) {
    return false;
  }
  const notebook = panel.content;
  const index = notebook.widgets.findIndex(cell => cell.node.contains(node));
  if (index < 0) {
    return false;
  }
  app.shell.activateById(panel.id);
  notebook.activeCellIndex = index;
  notebook.deselectAll();
  await app.commands.execute(RUN_CELL_COMMAND);
  return true;
}
