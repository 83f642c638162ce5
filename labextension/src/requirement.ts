/**
 * Client-side check of a PEP 508 requirement, good enough to catch typos
 * before a round trip. The server (packaging.requirements) has the last word.
 */

const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?/;
const EXTRA = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;
const SPECIFIER = /^(===|==|!=|~=|<=|>=|<|>)\s*([A-Za-z0-9*+!_.-]+)$/;
const URL_REF = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/\S+$/;

export interface IRequirementCheck {
  ok: boolean;
  /** The package name when ok. */
  name?: string;
  /** Why it is not a requirement, for the user. */
  reason?: string;
}

function fail(reason: string): IRequirementCheck {
  return { ok: false, reason };
}

/**
 * Check one requirement string such as `pandas>=2`, `requests[socks]==2.32.3`,
 * `numpy; python_version >= "3.11"` or `pkg @ https://host/pkg.whl`.
 */
export function checkRequirement(input: string): IRequirementCheck {
  const text = input.trim();
  if (!text) {
    return fail('Enter a requirement, for example pandas>=2.');
  }
  const nameMatch = NAME.exec(text);
  if (!nameMatch) {
    return fail(
      'A requirement starts with a package name (letters, digits, ".", "_" or "-").'
    );
  }
  const name = nameMatch[0];
  let rest = text.slice(name.length).trimStart();

  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) {
      return fail('Extras are missing their closing "]".');
    }
    const extras = rest
      .slice(1, close)
      .split(',')
      .map(e => e.trim());
    if (extras.length === 1 && extras[0] === '') {
      // "pkg[]" is allowed by PEP 508
    } else {
      for (const extra of extras) {
        if (!EXTRA.test(extra)) {
          return fail(`"${extra}" is not a valid extra name.`);
        }
      }
    }
    rest = rest.slice(close + 1).trimStart();
  }

  if (rest.startsWith('@')) {
    // direct reference; its marker must be separated by " ;"
    let url = rest.slice(1).trim();
    let marker: string | null = null;
    const sep = url.search(/\s+;/);
    if (sep >= 0) {
      marker = url.slice(url.indexOf(';', sep) + 1).trim();
      url = url.slice(0, sep);
    }
    if (!URL_REF.test(url)) {
      return fail(`"${url}" is not a URL (expected name @ https://...).`);
    }
    if (marker !== null && !marker) {
      return fail('The environment marker after ";" is empty.');
    }
    return { ok: true, name };
  }

  let specPart = rest;
  const semi = rest.indexOf(';');
  if (semi >= 0) {
    specPart = rest.slice(0, semi).trim();
    const marker = rest.slice(semi + 1).trim();
    if (!marker) {
      return fail('The environment marker after ";" is empty.');
    }
    if (!/^[A-Za-z_(]/.test(marker)) {
      return fail(`"${marker}" is not an environment marker.`);
    }
  }

  specPart = specPart.trim();
  if (specPart.startsWith('(')) {
    if (!specPart.endsWith(')')) {
      return fail('A version specifier in parentheses is missing its ")".');
    }
    specPart = specPart.slice(1, -1).trim();
  }
  if (!specPart) {
    return { ok: true, name };
  }
  for (const raw of specPart.split(',')) {
    const spec = raw.trim();
    if (!spec) {
      return fail('Empty version specifier between commas.');
    }
    if (!SPECIFIER.test(spec)) {
      if (/^[A-Za-z0-9]/.test(spec) && spec === specPart.trim()) {
        return fail(
          `Unexpected "${spec}" after the name "${name}": one requirement at a time, ` +
            'versions need an operator such as >=, ==, ~= or <.'
        );
      }
      if (/^=[^=]/.test(spec)) {
        return fail(`"${spec}" is not a version specifier: use "==".`);
      }
      return fail(
        `"${spec}" is not a version specifier (expected an operator such as >=, ==, ~=, != or < and a version).`
      );
    }
  }
  return { ok: true, name };
}
