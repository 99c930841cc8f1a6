/**
 * The tools of the real image test (test/packaging/image.test.ts), found or brought by `npm test` itself
 * (global-setup), as it brings Chromium: `buildah` (builds and runs the image without a daemon) and
 * `debootstrap` (makes the stand-in base image). When they are missing and we are root on a machine
 * with apt-get, Debian's packages are installed; otherwise the image test is skipped with the reason.
 * Root is needed either way: debootstrap and chroot run as root.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** The Debian packages the image test needs. */
export const IMAGE_TOOLS = ['buildah', 'debootstrap'] as const;

/** What looking for the tools may use. */
export interface ImageToolDeps {
  env: NodeJS.ProcessEnv;
  isRoot: boolean;
  /** Install the Debian packages; false when it could not. */
  install: (packages: string[]) => boolean;
  log: (line: string) => void;
}

function onPath(name: string, env: NodeJS.ProcessEnv): boolean {
  // debootstrap lives in /usr/sbin, which a non-login PATH may lack.
  const dirs = [...(env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/sbin'].filter(Boolean);
  return dirs.some((dir) => {
    try {
      accessSync(path.join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Undefined when the image test can run here, else why it cannot (one line, with the fix). */
export function ensureImageTools(deps: ImageToolDeps): string | undefined {
  if (!deps.isRoot) return 'the real image test needs root (debootstrap and chroot make its base image): run `npm test` as root, e.g. in CI';
  let missing = IMAGE_TOOLS.filter((t) => !onPath(t, deps.env));
  if (missing.length === 0) return undefined;
  deps.log(`the image test needs ${missing.join(' and ')}: installing Debian's package${missing.length > 1 ? 's' : ''} with apt-get (once)`);
  if (deps.install([...missing])) missing = missing.filter((t) => !onPath(t, deps.env));
  return missing.length === 0
    ? undefined
    : `${missing.join(' and ')} could not be installed: run \`apt-get install -y ${missing.join(' ')}\` (Debian/Ubuntu) to run the real image test`;
}
