/** Which interpreter runs a build here; kept apart from the build module so the local target loads it cheaply. */
import { OperationError } from '../util/errors.js';
import type { BuildInfo } from './index.js';

/**
 * The Python interpreter that runs a build's generated app here: what `serve`, the local target and
 * retraining's scoring start. An LLM build has none (its server runs in its container, on a GPU for
 * vLLM), so asking for it is the one place that refuses to run an LLM build on this machine.
 */
export function localPython(info: BuildInfo, action: string): string {
  if (typeof info.runtime === 'object') return info.runtime.python;
  const server = info.runtime === 'vllm' ? 'vLLM' : 'llama.cpp';
  throw new OperationError(
    'llm_not_local',
    `cannot ${action}: build ${info.id} is an LLM build served by ${server} in its container, and this runs the generated Python app on this machine`,
    {
      hint: `Deploy it to a cloud target (target: sagemaker in mlship.yaml), or run its image where Docker${info.runtime === 'vllm' ? ' and an NVIDIA GPU' : ''} are available: docker run${info.runtime === 'vllm' ? ' --gpus all' : ''} -p 8080:8080 mlship/${info.name}:${info.id}`,
    },
  );
}
