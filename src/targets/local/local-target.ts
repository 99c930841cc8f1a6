/** The local target: registry under .mlship/registry, serving processes behind a local router. */
import { OperationError } from '../../core/errors.js';
import type { Target, TargetContext } from '../types.js';

export class LocalTarget implements Partial<Target> {
  readonly name = 'local' as const;
  constructor(readonly ctx: TargetContext) {
    throw new OperationError('local_unavailable', 'the local target is being built');
  }
}
