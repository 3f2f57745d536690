#!/usr/bin/env bash
# Regenerate every table in benchmarks/results/ (full runs; pass --quick for a smoke run).
# Run from the repository root with the package installed. Takes about an hour on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/.."
for script in training_speed step_profile clarga_scaling xor grid_search predict_memory imputation quality; do
  if [ -f "benchmarks/$script.py" ]; then
    echo "== benchmarks/$script.py $*"
    python "benchmarks/$script.py" "$@"
  fi
done
