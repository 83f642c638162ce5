import { LabIcon } from '@jupyterlab/ui-components';

/** A padlock over a box: the locked project environment. Themed via jp-icon3. */
const ENVLOCK_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M12 1.5a4.5 4.5 0 0 0-4.5 4.5v2H6.75A1.75 1.75 0 0 0 5 9.75v5.5c0 .97.78 1.75 1.75 1.75h10.5c.97 0 1.75-.78 1.75-1.75v-5.5C19 8.78 18.22 8 17.25 8H16.5V6A4.5 4.5 0 0 0 12 1.5zM9.5 6a2.5 2.5 0 0 1 5 0v2h-5V6zm2.5 4a1.5 1.5 0 0 1 .75 2.8V14.5h-1.5v-1.7A1.5 1.5 0 0 1 12 10z"/>
    <path d="M3 18.5h18v1.5a2.5 2.5 0 0 1-2.5 2.5h-13A2.5 2.5 0 0 1 3 20v-1.5z"/>
  </g>
</svg>`;

export const envlockIcon = new LabIcon({
  name: 'jupyter-envlock:envlock',
  svgstr: ENVLOCK_SVG
});
