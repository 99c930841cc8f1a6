/** `mlship build` — not built yet; the frame, options and help are real. */
import { OperationError } from '../../core/errors.js';
import type { CommandModule } from '../context.js';

export const run: CommandModule['run'] = async () => {
  throw new OperationError('not_implemented', '`mlship build` is not implemented yet.', { hint: 'See the open issues in the README.' });
};
