#!/usr/bin/env bash
# The device check of issue 17, for a GPU machine (see /work/.library/device/README.md):
# wheels of skorch 1.4.0 and scikit-learn 1.9.1 in .whl/ (git-ignored), then run from the
# repository root there: bash benchmarks/gpu_check.sh  (writes its tables under $OUT).
set -o pipefail
export PYTHONUNBUFFERED=1
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$PWD || exit 3
nvidia-smi -L; python3 -c "import torch,sklearn,skorch,numpy;print('torch',torch.__version__,'sklearn',sklearn.__version__,'skorch',skorch.__version__,'numpy',numpy.__version__,torch.cuda.get_device_name())"
timeout 170 python3 -m pytest tests -m gpu -q -p no:cacheprovider -W ignore::DeprecationWarning 2>&1 | tee $OUT/gpu_tests.log | tail -15
cd benchmarks
timeout 130 python3 training_speed.py --all --device cuda --n-samples 200000 --batch-size 1024 --no-mlp --no-fold-fit --epochs 3 --repeats 1 --output $OUT/training_speed_cuda_200k.md 2>&1 | tail -4
timeout 200 python3 training_speed.py --all --device cuda --epochs 10 --repeats 2 --output $OUT/training_speed_cuda.md 2>&1 | tail -4
nvidia-smi --query-gpu=name,memory.used,clocks.sm --format=csv
