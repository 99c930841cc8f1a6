/**
 * Handlebars templates from `templates/`, compiled the one way mlship allows: `strict` (a missing
 * value is an error, never an empty string in a generated file) and `noEscape` (we write code, not
 * HTML). The one template loader: init, build and the targets all render through it. Templates only lay out text; every decision is made in TypeScript before rendering.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';

/** The package's `templates/` folder (same relative place from `src/util` and `dist/core`). */
export const templatesDir = fileURLToPath(new URL('../../templates/', import.meta.url));

const handlebars = Handlebars.create();
const cache = new Map<string, Handlebars.TemplateDelegate>();

/** Register a helper (e.g. the build's `py` literal) on mlship's one Handlebars instance. */
export function registerTemplateHelper(name: string, helper: Handlebars.HelperDelegate): void {
  handlebars.registerHelper(name, helper);
}

/** Compile template text with mlship's settings. */
export function compileTemplate(text: string): Handlebars.TemplateDelegate {
  return handlebars.compile(text, { strict: true, noEscape: true });
}

/**
 * Render `templates/<name>` (e.g. `init/train.py.hbs`) with `data`. Throws when the template refers
 * to a value `data` does not have: that is a bug in mlship, not a user error.
 */
export function renderTemplate(name: string, data: object): string {
  return template(name)(data);
}

/** `templates/<name>`, compiled once with mlship's settings and registered helpers. */
export function template(name: string): Handlebars.TemplateDelegate {
  let compiled = cache.get(name);
  if (!compiled) {
    compiled = compileTemplate(readFileSync(new URL(name, new URL('../../templates/', import.meta.url)), 'utf8'));
    cache.set(name, compiled);
  }
  return compiled;
}
