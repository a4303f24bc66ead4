#!/usr/bin/env bash
# Run on a machine with an NVIDIA GPU and CuPy: the whole test suite (the device fixture adds 'cuda'),
# then the GPU benchmarks against PyTorch on CUDA. Logs go to the folder given as $1 (default gpu-results).
set -uo pipefail
out=${1:-gpu-results}
mkdir -p "$out"
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
python3 -c "import npnn, cupy; assert npnn.cuda.is_available(), 'CuPy sees no GPU'; \
print('GPU:', npnn.cuda.get_device_name(0), '| cupy', cupy.__version__)" || exit 1
par=()
python3 -c "import xdist" 2>/dev/null && par=(-n "${NPNN_TEST_WORKERS:-8}")
python3 -m pytest -q -p no:cacheprovider "${par[@]}" tests 2>&1 | tee "$out/tests.log" | tail -n 40
python3 benchmarks/run.py --device cuda 2>&1 | tee "$out/bench.log"
