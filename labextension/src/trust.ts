/**
 * What the trust card says about a project that is not trusted yet: the
 * sentences of its build plan, and the terminal command that trusts it.
 * Dependency-free (unit-tested with node --test).
 */
import type { IBuildPlan, ITrust } from './api';

/** One line of the plan; `warn` marks what runs code beyond installing wheels. */
export interface IPlanLine {
  text: string;
  warn: boolean;
}

/** The build plan as the trust card lists it. */
export function planLines(plan: IBuildPlan): IPlanLine[] {
  const from = plan.indexes.length
    ? plan.indexes.join(', ')
    : 'the configured package index';
  const lines: IPlanLine[] = [];
  if (plan.packages === null) {
    lines.push({
      text: `No lock yet: resolves its requirements and installs them from ${from}`,
      warn: false
    });
  } else {
    const noun = plan.packages === 1 ? 'package' : 'packages';
    lines.push({
      text: `Installs ${plan.packages} ${noun} from ${from}`,
      warn: false
    });
  }
  if (plan.source_builds.length) {
    lines.push({
      text: `Builds from source, running their build code: ${plan.source_builds.join(', ')}`,
      warn: true
    });
  }
  if (plan.editable) {
    lines.push({
      text: 'Installs the project itself editable, running its build backend',
      warn: true
    });
  }
  return lines;
}

/** Whether the server said the project is not trusted (an older server says nothing). */
export function needsTrust(trust: ITrust | null | undefined): boolean {
  return !!trust && !trust.trusted;
}

/** `jupyter envlock trust --project PATH`, quoted for a POSIX shell when needed. */
export function trustCommand(projectPath: string): string {
  const safe = /^[A-Za-z0-9_./:@%+=,-]+$/.test(projectPath);
  const quoted = safe ? projectPath : `'${projectPath.replace(/'/g, "'\\''")}'`;
  return `jupyter envlock trust --project ${quoted}`;
}
