/**
 * What the serving app needs per model flavor: pinned pip requirements (the image and the local
 * virtualenv install exactly these) and the modules that prove an interpreter already has them.
 * Kept as data: bump a version here and every build that uses it gets a new id.
 */
import type { Flavor } from '../manifest/types.js';

/** How the app loads the artifact: a key of LOADERS in python/mlship_serving/loaders.py. */
export type LoaderKind = 'joblib' | 'lightgbm' | 'onnx' | 'pytorch' | 'transformers';

/** The serving runtime of one flavor. */
export interface FlavorRuntime {
  loader: LoaderKind;
  /** pip requirement lines, pinned. */
  packages: string[];
  /** Python modules the app imports for this flavor (checked before reusing an interpreter). */
  modules: string[];
}

/**
 * The app itself: ASGI server, JSON, frames. httptools and uvloop are uvicorn's fast HTTP parser and
 * event loop, which the image always has: the local runtime requires them too (without them uvicorn
 * silently serves through h11 and asyncio, about half the throughput), except uvloop on Windows.
 */
const BASE = ['httptools==0.8.0', 'numpy==2.4.6', 'orjson==3.12.0', 'pandas==3.0.6', 'uvicorn==0.54.0', 'uvloop==0.23.0; sys_platform != "win32"'];
/** The modules of the image's HTTP stack (uvicorn's fast parser and loop) that a local interpreter must import. */
export const HTTP_STACK_MODULES = process.platform === 'win32' ? ['httptools'] : ['httptools', 'uvloop'];
const BASE_MODULES = ['numpy', 'orjson', 'pandas', 'uvicorn', ...HTTP_STACK_MODULES];
const SKLEARN = ['joblib==1.6.0', 'scikit-learn==1.9.1'];
/**
 * The versions the flavor tests ran with (test/requirements-flavors.txt). torch: the CPU wheel on CPU
 * images (PyTorch's CPU index, below), the CUDA one on GPU images.
 */
const TORCH = 'torch==2.13.0';
const TRANSFORMERS = ['safetensors==0.8.0', 'tokenizers==0.23.2', 'transformers==5.18.0'];
const TORCH_CPU_INDEX = '--extra-index-url https://download.pytorch.org/whl/cpu';
const TORCH_CUDA_INDEX = '--extra-index-url https://download.pytorch.org/whl/cu126';

const RUNTIMES: Record<Exclude<Flavor, 'llm'>, FlavorRuntime> = {
  sklearn: { loader: 'joblib', packages: [...BASE, ...SKLEARN], modules: [...BASE_MODULES, 'joblib', 'sklearn'] },
  xgboost: { loader: 'joblib', packages: [...BASE, ...SKLEARN, 'xgboost==3.1.2'], modules: [...BASE_MODULES, 'joblib', 'sklearn', 'xgboost'] },
  // joblib and scikit-learn too: a pickled LGBMClassifier loads through them (a Booster's .txt does not need them).
  lightgbm: { loader: 'lightgbm', packages: [...BASE, ...SKLEARN, 'lightgbm==4.7.0'], modules: [...BASE_MODULES, 'joblib', 'sklearn', 'lightgbm'] },
  onnx: { loader: 'onnx', packages: [...BASE, 'onnxruntime==1.30.0'], modules: [...BASE_MODULES, 'onnxruntime'] },
  pytorch: { loader: 'pytorch', packages: [TORCH_CPU_INDEX, ...BASE, TORCH], modules: [...BASE_MODULES, 'torch'] },
  transformers: {
    loader: 'transformers',
    packages: [TORCH_CPU_INDEX, ...BASE, TORCH, ...TRANSFORMERS],
    modules: [...BASE_MODULES, 'torch', 'transformers', 'tokenizers', 'safetensors'],
  },
};

/** GPU images of these flavors need a different wheel or package. */
const GPU_PACKAGES: Partial<Record<Flavor, { replace: Record<string, string>; preamble: string[] }>> = {
  onnx: { replace: { 'onnxruntime==1.30.0': 'onnxruntime-gpu==1.30.0' }, preamble: [] },
  pytorch: { replace: { [TORCH_CPU_INDEX]: TORCH_CUDA_INDEX }, preamble: [] },
  transformers: { replace: { [TORCH_CPU_INDEX]: TORCH_CUDA_INDEX }, preamble: [] },
};

/**
 * The LLM gateway (python/mlship_serving/llm/): it only forwards bytes to the model server, so the app's
 * HTTP stack and JSON are all it needs (no numpy, no pandas, no model library).
 */
export const LLM_GATEWAY = {
  packages: ['httptools==0.8.0', 'orjson==3.12.0', 'uvicorn==0.54.0', 'uvloop==0.23.0; sys_platform != "win32"'],
  modules: ['orjson', 'uvicorn', ...HTTP_STACK_MODULES],
};

/** The runtime of a flavor's generated app; undefined for llm (its app is the gateway: LLM_GATEWAY). */
export function flavorRuntime(flavor: Flavor): FlavorRuntime | undefined {
  return flavor === 'llm' ? undefined : RUNTIMES[flavor];
}

/** The Python modules a local interpreter must import to serve a flavor's build. */
export function servingModules(flavor: Flavor): string[] {
  return flavorRuntime(flavor)?.modules ?? LLM_GATEWAY.modules;
}

/** Requirement lines for the image (GPU swaps in CUDA wheels where the flavor has them). */
export function requirementLines(flavor: Flavor, gpu: boolean): string[] {
  const runtime = flavorRuntime(flavor);
  if (!runtime) return LLM_GATEWAY.packages;
  const gpuSpec = gpu ? GPU_PACKAGES[flavor] : undefined;
  if (!gpuSpec) return runtime.packages;
  return [...gpuSpec.preamble, ...runtime.packages.map((p) => gpuSpec.replace[p] ?? p)];
}
