/** What runs a build here (the interpreter, an LLM's model server); kept apart from the build module so the local target loads it cheaply. */
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { OperationError } from '../util/errors.js';
import type { BuildInfo } from './index.js';

/**
 * The Python interpreter that runs a build's generated app (an LLM's gateway) here: what `serve`, the
 * local target and retraining's scoring start. An LLM build made before mlship served LLMs through
 * its gateway has none: asking for it says to build again.
 */
export function localPython(info: BuildInfo, action: string): string {
  if (typeof info.runtime === 'object') return info.runtime.python;
  throw new OperationError('llm_not_local', `cannot ${action}: build ${info.id} is an LLM build from an older mlship, made to run only as its image`, {
    hint: 'Run `mlship build` again (the build then carries mlship’s gateway and a local runtime), then push and deploy the new build.',
  });
}

/** Where an LLM build's model server comes from on this machine, for the message that names it. */
export interface LlamaServerSetting {
  /** `targets.local.llama_server`. */
  configured?: string;
  env: NodeJS.ProcessEnv;
}

/**
 * The llama-server binary that serves an LLM build here (undefined for any other build): the
 * environment's MLSHIP_LLAMA_SERVER, else `targets.local.llama_server`, else `llama-server` on PATH.
 * A vLLM build needs its GPU image, and no llama-server found is a clear error saying how to get one.
 */
export function localLlamaServer(info: BuildInfo, setting: LlamaServerSetting, action: string): string | undefined {
  if (!info.llm) return undefined;
  if (info.llm.server === 'vllm') {
    throw new OperationError('llm_not_local', `cannot ${action}: build ${info.id} serves the model with vLLM, which needs an NVIDIA GPU and its image`, {
      hint: `Deploy it to a cloud target (target: sagemaker, vertex or azure), or run its image on a GPU machine: docker run --gpus all -p 8080:8080 mlship/${info.name}:${info.id}. GGUF weights run here with llama.cpp.`,
    });
  }
  const found = findLlamaServer(setting);
  if (found) return found;
  throw new OperationError(
    'llama_server_missing',
    `cannot ${action}: no llama-server on PATH, and neither MLSHIP_LLAMA_SERVER nor targets.local.llama_server names one`,
    {
      hint:
        'Install llama.cpp (its releases have prebuilt llama-server binaries; `brew install llama.cpp` on macOS), or build it: ' +
        'git clone https://github.com/ggml-org/llama.cpp && cmake -S llama.cpp -B llama.cpp/build && cmake --build llama.cpp/build --target llama-server; ' +
        'then put it on PATH or set targets.local.llama_server in mlship.yaml.',
    },
  );
}

/**
 * The llama-server named by MLSHIP_LLAMA_SERVER or `targets.local.llama_server`, else the PATH's;
 * undefined when there is none. A named one that is not executable is an error. (The build's
 * quantization sweep finds llama.cpp's other tools beside it.)
 */
export function findLlamaServer(setting: LlamaServerSetting): string | undefined {
  const named: [string, string | undefined][] = [
    ['MLSHIP_LLAMA_SERVER', setting.env.MLSHIP_LLAMA_SERVER],
    ['targets.local.llama_server', setting.configured],
  ];
  for (const [where, value] of named) {
    if (!value) continue;
    const found = value.includes('/') ? (isExecutable(value) ? path.resolve(value) : undefined) : onPath(value, setting.env);
    if (found) return found;
    throw new OperationError('llama_server_missing', `${where} names ${value}, which is not an executable file`, {
      hint: 'Point it at a llama-server binary (llama.cpp’s `cmake --build build --target llama-server` makes one in build/bin/).',
    });
  }
  return onPath('llama-server', setting.env);
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return existsSync(file);
  } catch {
    return false;
  }
}

/** An executable named `command` in a folder of the PATH. */
export function onPath(command: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, command);
    if (isExecutable(file)) return file;
  }
  return undefined;
}
