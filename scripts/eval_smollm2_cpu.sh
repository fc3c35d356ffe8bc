#!/usr/bin/env bash
# SmolLM2-135M-Instruct on CPU: the 15 bundled test problems, the first 20
# HumanEval problems and the first 20 synthetic test problems, each through
# gin/eval_smollm2_cpu.gin (1@3 at T 0.2: multi_turn, independent,
# random_feedback). Reports land in $OUT/<task>/report.json and summary.md.
#   bash scripts/eval_smollm2_cpu.sh [OUT [TASK:LIMIT ...]]   (default runs/smollm2_eval)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
OUT=${1:-runs/smollm2_eval}
shift || true
SPECS=("$@")
[ ${#SPECS[@]} -gt 0 ] || SPECS=(rlef_bundled_test:15 humaneval:20 rlef_synthetic_test:20)
for spec in "${SPECS[@]}"; do
  task=${spec%%:*}; limit=${spec##*:}
  echo "=== $task (first $limit) $(date -u +%FT%TZ)"
  /usr/bin/time -f "$task wall %e s, peak RSS %M KB" \
    python -m rlef_jax.main --gin_file=gin/eval_smollm2_cpu.gin \
      --gin_bindings="eval_job.task = \"$task\"" --gin_bindings="eval_job.limit = $limit" \
      --workdir="$OUT/$task"
done
