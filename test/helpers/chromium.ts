/**
 * The browser the HTML-report test drives, found or brought by `npm test` itself (global-setup), as
 * it brings the Python venv: the one MLSHIP_CHROMIUM names, else a Chrome/Chromium on PATH; when
 * there is none and we are root, Debian's `chromium` from apt-get; else one line saying what to run.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** Executable names tried on PATH, in order. */
export const CHROMIUM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'];

/** What finding Chromium may use: the environment, whether we are root, how to install a package. */
export interface ChromiumDeps {
  env: NodeJS.ProcessEnv;
  isRoot: boolean;
  /** Install Debian's `chromium`; returns false when it could not. */
  install: () => boolean;
  log: (line: string) => void;
}

/** The one line that fixes a machine without Chromium. */
export const CHROMIUM_FIX =
  'the HTML report test needs Chromium: run `sudo apt-get install -y chromium` (Debian/Ubuntu), or set MLSHIP_CHROMIUM to a Chrome/Chromium binary';

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A Chrome/Chromium on PATH (or named by MLSHIP_CHROMIUM), or undefined. */
export function findChromium(env: NodeJS.ProcessEnv): string | undefined {
  // A browser named explicitly is the only one considered: a wrong name is not silently replaced.
  const named = env.MLSHIP_CHROMIUM;
  if (named) return executable(named) ? named : undefined;
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const name of CHROMIUM_NAMES) {
      const file = path.join(dir, name);
      if (executable(file)) return file;
    }
  }
  return undefined;
}

/** Find Chromium, installing Debian's package when root; throws the fixing line when neither works. */
export function ensureChromium(deps: ChromiumDeps): string {
  const found = findChromium(deps.env);
  if (found) return found;
  if (deps.isRoot) {
    deps.log("no Chrome/Chromium found: installing Debian's chromium with apt-get (once)");
    if (deps.install()) {
      const installed = findChromium({ PATH: `${deps.env.PATH ?? ''}${path.delimiter}/usr/bin` });
      if (installed) return installed;
    }
  }
  throw new Error(CHROMIUM_FIX);
}
