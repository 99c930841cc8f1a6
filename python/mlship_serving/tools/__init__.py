"""Build-time tools: what `mlship build` (and `mlship retrain`'s scoring) runs on a build, never a
serving process.

    serve.py parity ...      tools/parity.py: training path vs serving path on the baseline
    serve.py calibrate ...   tools/calibrate.py: CPU cost of one request and of a batch

They use the runtime (predictor, validation, loaders) the way the app does; the runtime never
imports them. The image leaves this folder out (templates/docker/dockerignore.hbs), and
test/serving/workers.test.ts checks that a serving process does not load it.
"""
