/**
 * LLM builds: mlship's gateway (python/mlship_serving/llm/) in front of the model server the instance
 * selection decided (vLLM on a GPU, llama.cpp's llama-server for GGUF weights or without a GPU). This
 * renders the gateway's serve.py (an LlmSpec: what the manifest decides), the runtime package, the
 * gateway's requirements and the image: the server's own pinned build beside the gateway. Pure like
 * `render`: every decision is taken here, the templates only lay out text.
 */
import { modelLoadSeconds } from '../compute/load-time.js';
import { selectForManifest } from '../compute/select.js';
import { DEFAULTS } from '../manifest/resolve.js';
import type { Manifest, Quantization } from '../manifest/types.js';
import type { ComputeChoice, QuantizedWeights } from '../compute/types.js';
import { servingRuntimeFiles, template, type ModelInfo, type RenderedFile, type RenderOptions } from './render.js';
import { requirementLines } from './requirements.js';

/** The two LLM servers a build can render. */
export type LlmRuntime = 'vllm' | 'llama.cpp';

/** vLLM's OpenAI-compatible server image (CUDA), pinned. */
export const VLLM_IMAGE = 'vllm/vllm-openai:v0.10.0';
/** llama.cpp's server images, pinned to one release: CPU and CUDA 12 builds (the image takes its /app). */
export const LLAMA_CPP_IMAGE = { cpu: 'ghcr.io/ggml-org/llama.cpp:server-b9603', gpu: 'ghcr.io/ggml-org/llama.cpp:server-cuda12-b9603' };
/** The bases the gateway runs on beside llama-server: Debian's Python, or CUDA's runtime for the GPU build. */
const GATEWAY_BASE = { cpu: 'python:3.11-slim', gpu: 'nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04' };
/** Where vLLM listens inside the container (loopback only: the gateway is the one door). */
const VLLM_PORT = 8000;

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

/** Render the LLM build context: the gateway's serve.py, the runtime package, its requirements, the image. */
export function renderLlm(manifest: Manifest, model: ModelInfo, choice: ComputeChoice & { runtime: LlmRuntime }, options: RenderOptions): RenderedFile[] {
  const vllm = choice.runtime === 'vllm';
  const archive = vllm && ARCHIVE.test(model.file);
  const context = manifest.model.context ?? DEFAULTS.llmContext;
  const weights = archive ? '/opt/mlship/weights' : `/opt/mlship/model/${model.file}`;
  // On a GPU the server batches concurrent requests (continuous batching): four slots, each with the
  // whole context. On CPU a second slot only splits the same cores: requests queue (and the log says how long).
  const parallel = choice.gpu ? 4 : 1;
  const common = { name: manifest.name, mlshipVersion: options.mlshipVersion };
  const app = template('serving/serve-llm.py.hbs')({
    ...common,
    server: vllm ? 'vLLM' : 'llama-server',
    modelFile: model.file,
    context,
    maxBody: manifest.serving.max_body_bytes,
    logContent: manifest.monitoring.log_content,
    parallel,
    parallelWhy: choice.gpu ? 'a GPU batches concurrent requests' : 'on CPU more slots only split the cores: requests queue',
    // The gateway waits for the server as long as the platforms' health checks do (one estimate).
    loadTimeout: modelLoadSeconds(model.bytes, choice.gpu),
    serverArgs: vllm || !choice.gpu ? [] : ['--n-gpu-layers', '999'],
  });
  const gpu = choice.gpu;
  const python = vllm ? '/opt/gateway/bin/python' : gpu ? '/opt/venv/bin/python' : '/usr/local/bin/python';
  const dockerfile = template('docker/Dockerfile.llm.hbs')({
    ...common,
    server: vllm ? 'vLLM' : 'llama-server',
    // The reasons stay in build.json: the selection's wording is not part of the image.
    computeNote: `${vllm ? 'vLLM' : 'llama.cpp'} on ${gpu ? 'a GPU' : 'CPU'} (${choice.instanceType}), chosen by instance selection (see build.json).`,
    serverImage: vllm ? null : gpu ? LLAMA_CPP_IMAGE.gpu : LLAMA_CPP_IMAGE.cpu,
    baseImage: vllm ? VLLM_IMAGE : gpu ? GATEWAY_BASE.gpu : GATEWAY_BASE.cpu,
    serverEnv: vllm ? [] : ['MLSHIP_LLAMA_SERVER=/opt/llama/llama-server', 'LD_LIBRARY_PATH=/opt/llama'],
    systemSetup: vllm
      ? // vLLM's own Python keeps its pins: the gateway gets a virtualenv of its own.
        ['RUN python3 -m venv /opt/gateway']
      : gpu
        ? [
            'RUN apt-get update \\\n    && apt-get install -y --no-install-recommends python3 python3-venv libgomp1 libcurl4 \\\n    && rm -rf /var/lib/apt/lists/* \\\n    && python3 -m venv /opt/venv',
          ]
        : // llama-server's OpenMP and HTTP client libraries.
          ['RUN apt-get update \\\n    && apt-get install -y --no-install-recommends libgomp1 libcurl4 \\\n    && rm -rf /var/lib/apt/lists/*'],
    pip: vllm ? '/opt/gateway/bin/pip' : gpu ? '/opt/venv/bin/pip' : 'pip',
    // The weights: the file the gateway checks (sha256) always; an archive is also unpacked for vLLM.
    weightsSetup: archive ? `COPY model/ model/\nRUN mkdir -p ${weights} && tar -xf model/${model.file} -C ${weights}` : 'COPY model/ model/',
    appFiles: vllm ? 'serve.py build.json entrypoint.sh' : 'serve.py build.json',
    entrypoint: (vllm ? ['/bin/sh', '/opt/mlship/entrypoint.sh'] : [python, '/opt/mlship/serve.py']).map((a) => JSON.stringify(a)).join(', '),
  });
  const files: RenderedFile[] = [
    { path: 'serve.py', content: app, mode: 0o755 },
    ...servingRuntimeFiles(),
    { path: 'requirements.txt', content: template('serving/requirements.txt.hbs')({ ...common, flavor: 'llm', packages: requirementLines('llm', gpu) }) },
    { path: 'Dockerfile', content: dockerfile },
    { path: '.dockerignore', content: template('docker/dockerignore.hbs')({}) },
  ];
  if (vllm) {
    const args = ['--served-model-name', manifest.name, ...VLLM_QUANTIZATION[manifest.model.quantization], '--max-model-len', String(context)];
    files.push({
      path: 'entrypoint.sh',
      content: template('docker/entrypoint.sh.hbs')({
        ...common,
        command: 'python3 -m vllm.entrypoints.openai.api_server',
        weights,
        upstreamPort: VLLM_PORT,
        args: args.join(' '),
        python,
      }),
      mode: 0o755,
    });
  }
  return files;
}

/** Why a vLLM build's weights may not load as packaged, for a build warning (undefined when they will). */
export function weightsWarning(runtime: LlmRuntime, modelFile: string): string | undefined {
  if (runtime !== 'vllm' || ARCHIVE.test(modelFile)) return undefined;
  return `vLLM loads a Hugging Face weights folder, and model.path is the single file ${modelFile}: package the folder as a .tar.gz (unpacked into the image) or mount the folder at run time and point MLSHIP_MODEL_PATH at it`;
}
