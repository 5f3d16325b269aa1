#!/usr/bin/env bash
# The one prepared check for a machine with a GPU (run by hand there, never by the tests):
# the CUDA-dependent tests, then the engine's steps at the paper's scale and the empirical NTK
# and linearised step against their floors. Writes its log to $OUT/device_check.log when OUT
# is set. At most 12 minutes (the sum of its steps' timeouts).
#
#     bash benchmarks/device_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1  # the package, uninstalled
log="${OUT:-/tmp}/device_check.log"
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python3 -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda, torch.cuda.get_device_name())"
  echo "== CUDA-dependent tests"
  timeout 180 python3 -m pytest -q -m "not slow" -k "cuda or gpu or device" tests/training tests/core tests/kernels
  echo "== the engine at the paper's scale (FC 4 x 512 and CNN 4 x 256, CIFAR-10 8x8x3 and 32x32x3 shapes)"
  timeout 180 python3 benchmarks/bench_engine.py --device cuda --steps 100
  echo "== empirical NTK and linearised-network step against their floors"
  timeout 120 python3 benchmarks/bench_models.py --device cuda --points 512 --repeats 5
  echo "== the empirical NTK layer by layer against its floor and the torch.func Jacobian, N = 200 and 1,000"
  timeout 240 python3 benchmarks/bench_ntk.py --device cuda --points 200 1000 --methods old tutorial --max-seconds 60
} 2>&1 | tee "$log"
