/**
 * LLM builds: no generated Python app. The instance selection already decided the server (vLLM on a
 * GPU, llama.cpp for GGUF weights or without a GPU); this renders that server's container context: a
 * Dockerfile on the server's own pinned image and an `entrypoint.sh` that starts it on the platform's
 * port. Pure like `render`: every decision is taken here, the templates only lay out text.
 *
 * The servers answer their own OpenAI-style routes, not mlship's serving contract (no Server-Timing
 * stages, no prediction log, no field validation): `LLM_CONTRACT_NOTE` says so wherever it matters.
 */
import { selectForManifest } from '../compute/select.js';
import type { Manifest, Quantization } from '../manifest/types.js';
import type { ComputeChoice, QuantizedWeights } from '../compute/types.js';
import { template, type ModelInfo, type RenderedFile, type RenderOptions } from './render.js';

/** The two LLM servers a build can render. */
export type LlmRuntime = 'vllm' | 'llama.cpp';

/** vLLM's OpenAI-compatible server image (CUDA), pinned. */
export const VLLM_IMAGE = 'vllm/vllm-openai:v0.10.0';
/** llama.cpp's server images, pinned to one release: CPU and CUDA 12 builds. */
export const LLAMA_CPP_IMAGE = { cpu: 'ghcr.io/ggml-org/llama.cpp:server-b9603', gpu: 'ghcr.io/ggml-org/llama.cpp:server-cuda12-b9603' };
/** Context length when the manifest says nothing: enough for chat, small enough for the KV-cache headroom selection sized. */
export const DEFAULT_MAX_MODEL_LEN = 4096;

/** What an LLM image serves, said once for the build output, the Dockerfile and the README. */
export const LLM_CONTRACT_NOTE =
  "LLM image: the server's own OpenAI-compatible routes (/health, /v1/models, /v1/completions, /v1/chat/completions), not mlship's serving contract: no Server-Timing stages, no prediction log, no feature validation";

/** Archives of a Hugging Face weights folder, unpacked into the image at build time. */
const ARCHIVE = /\.(tar|tar\.gz|tgz)$/i;

/** vLLM flags for a quantization: the dtype of unquantized weights, or the in-flight quantization that gives the sized width. */
const VLLM_QUANTIZATION: Record<Quantization, string[]> = {
  fp32: ['--dtype', 'float32'],
  fp16: ['--dtype', 'float16'],
  bf16: ['--dtype', 'bfloat16'],
  // Weight-only FP8 (1 byte/parameter) runs on Ampere and newer; int8 is sized at 1 byte/parameter.
  int8: ['--dtype', 'float16', '--quantization', 'fp8'],
  // In-flight 4-bit bitsandbytes from an fp16/bf16 checkpoint (0.5 byte/parameter, as sized).
  int4: ['--dtype', 'float16', '--quantization', 'bitsandbytes'],
};

/**
 * The instance selection for an LLM manifest: the one function deploy and budget use, which picks the
 * server too. A measured quantization's build passes the file it serves (`quantized`).
 */
export function selectLlm(manifest: Manifest, modelBytes: number, quantized?: QuantizedWeights): ComputeChoice & { runtime: LlmRuntime } {
  const choice = selectForManifest(manifest, { modelBytes, ...(quantized && { quantized }) });
  const runtime = choice.runtime;
  if (runtime !== 'vllm' && runtime !== 'llama.cpp') throw new Error(`instance selection chose the "${runtime ?? 'python'}" runtime for an LLM`);
  return { ...choice, runtime };
}

/** Render the LLM server context (Dockerfile, entrypoint.sh, .dockerignore) for the selection's runtime. */
export function renderLlm(manifest: Manifest, model: ModelInfo, choice: ComputeChoice & { runtime: LlmRuntime }, options: RenderOptions): RenderedFile[] {
  const vllm = choice.runtime === 'vllm';
  const archive = vllm && ARCHIVE.test(model.file);
  const weights = vllm ? '/opt/mlship/weights' : `/opt/mlship/model/${model.file}`;
  const baseImage = vllm ? VLLM_IMAGE : choice.gpu ? LLAMA_CPP_IMAGE.gpu : LLAMA_CPP_IMAGE.cpu;
  const serverArgs = vllm
    ? ['--served-model-name', manifest.name, ...VLLM_QUANTIZATION[manifest.model.quantization], '--max-model-len', String(DEFAULT_MAX_MODEL_LEN)]
    : ['--alias', manifest.name, '--ctx-size', String(DEFAULT_MAX_MODEL_LEN), ...(choice.gpu ? ['--n-gpu-layers', '999'] : [])];
  const common = { name: manifest.name, mlshipVersion: options.mlshipVersion, note: LLM_CONTRACT_NOTE };
  const dockerfile = template('docker/Dockerfile.llm.hbs')({
    ...common,
    baseImage,
    // The reasons stay in build.json: the selection's wording is not part of the image.
    computeNote: `${vllm ? 'vLLM' : 'llama.cpp'} on ${choice.gpu ? 'a GPU' : 'CPU'} (${choice.instanceType}), chosen by instance selection (see build.json).`,
    // The weights: an archive is unpacked into the weights folder; a single file is copied into it.
    weightsSetup: vllm
      ? archive
        ? `COPY model/${model.file} /tmp/weights-archive\nRUN mkdir -p ${weights} && tar -xf /tmp/weights-archive -C ${weights} && rm /tmp/weights-archive`
        : `COPY model/ ${weights}/`
      : `COPY model/${model.file} ${weights}`,
  });
  const entrypoint = template('docker/entrypoint.sh.hbs')({
    ...common,
    runtime: vllm ? 'vLLM' : 'llama.cpp',
    command: vllm ? 'python3 -m vllm.entrypoints.openai.api_server' : '/app/llama-server',
    weights,
    args: serverArgs.join(' '),
    extraRoutes: vllm ? '\n# SageMaker: vLLM also answers GET /ping and POST /invocations.' : '',
  });
  return [
    { path: 'Dockerfile', content: dockerfile },
    { path: 'entrypoint.sh', content: entrypoint, mode: 0o755 },
    { path: '.dockerignore', content: template('docker/dockerignore.hbs')({}) },
  ];
}

/** Why a vLLM build's weights may not load as packaged, for a build warning (undefined when they will). */
export function weightsWarning(runtime: LlmRuntime, modelFile: string): string | undefined {
  if (runtime !== 'vllm' || ARCHIVE.test(modelFile)) return undefined;
  return `vLLM loads a Hugging Face weights folder, and model.path is the single file ${modelFile}: package the folder as a .tar.gz (unpacked into the image) or mount the folder at run time and point MLSHIP_MODEL_PATH at it`;
}
