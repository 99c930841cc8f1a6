/**
 * Handlebars templates from `templates/`, compiled the one way mlship allows: `strict` (a missing
 * value is an error, never an empty string in a generated file) and `noEscape` (we write code, not
 * HTML). Templates only lay out text; every decision is made in TypeScript before rendering.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';

/** The package's `templates/` folder (same relative place from `src/core` and `dist/core`). */
export const templatesDir = fileURLToPath(new URL('../../templates/', import.meta.url));

const handlebars = Handlebars.create();
const cache = new Map<string, Handlebars.TemplateDelegate>();

/** Compile template text with mlship's settings. */
export function compileTemplate(text: string): Handlebars.TemplateDelegate {
  return handlebars.compile(text, { strict: true, noEscape: true });
}

/**
 * Render `templates/<name>` (e.g. `init/train.py.hbs`) with `data`. Throws when the template refers
 * to a value `data` does not have: that is a bug in mlship, not a user error.
 */
export function renderTemplate(name: string, data: object): string {
  let template = cache.get(name);
  if (!template) {
    template = compileTemplate(readFileSync(new URL(name, new URL('../../templates/', import.meta.url)), 'utf8'));
    cache.set(name, template);
  }
  return template(data);
}
