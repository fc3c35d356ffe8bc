#!/usr/bin/env bash
# Applies each mutation under tests/mutations/ to a throw-away copy of the tree
# and runs the learning regression test there; the test must FAIL on every one.
#
#   bash tools/mutation_check.sh                 # every mutation
#   bash tools/mutation_check.sh --baseline      # also the unmutated copy (must pass)
#   bash tools/mutation_check.sh tests/mutations/advantage_sign.patch
#
# PYTHON picks the interpreter (default: .venv/bin/python, else /work/main/.venv/bin/python,
# else python3). The copy holds the working tree's tracked and untracked (not ignored)
# files, so uncommitted edits are tested too; the repository itself is never changed.
# Logs: $OUT_DIR (default /tmp/mutation_check.<pid>)/<name>.log. Exit status 0 when
# every mutation was caught (and the baseline passed), 1 otherwise.
set -u -o pipefail

root=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
cd "$root"
if [[ -z "${PYTHON:-}" ]]; then
  for p in .venv/bin/python /work/main/.venv/bin/python python3; do
    if command -v "$p" >/dev/null 2>&1; then PYTHON=$(command -v "$p"); break; fi
  done
fi
out_dir=${OUT_DIR:-/tmp/mutation_check.$$}
mkdir -p "$out_dir"

baseline=0
patches=()
for arg in "$@"; do
  if [[ "$arg" == "--baseline" ]]; then baseline=1; else patches+=("$arg"); fi
done
if [[ ${#patches[@]} -eq 0 ]]; then patches=(tests/mutations/*.patch); fi
[[ $baseline == 1 ]] && patches=(BASELINE "${patches[@]}")

copy_tree() {  # $1: destination
  mkdir -p "$1"
  git ls-files -z --cached --others --exclude-standard | tar -c --null -T - 2>/dev/null \
    | tar -x -C "$1"
}

status=0
printf '%-28s %-10s %s\n' mutation result detail
for patch in "${patches[@]}"; do
  name=$(basename "$patch" .patch)
  work=$(mktemp -d /tmp/mutation_check.XXXXXX)
  copy_tree "$work"
  if [[ "$patch" != BASELINE ]]; then
    if ! (cd "$work" && patch -p1 --forward --silent < "$root/$patch") >"$out_dir/$name.log" 2>&1; then
      printf '%-28s %-10s %s\n' "$name" NO-APPLY "the patch no longer applies (see $out_dir/$name.log)"
      status=1; rm -rf "$work"; continue
    fi
  fi
  start=$(date +%s)
  (cd "$work" && PYTHONPATH="$work" nice -n 10 "$PYTHON" -m pytest -q -p no:cacheprovider -s \
     tests/test_learning.py) >>"$out_dir/$name.log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  curve=$(grep -m1 '^solve rate per round' "$out_dir/$name.log" | sed 's/^solve rate per round: //')
  why=$(grep -m1 -E '^E +(AssertionError|assert|Mismatch|Not equal)' "$out_dir/$name.log" \
        | sed 's/^E *//' | cut -c1-120)
  if [[ "$patch" == BASELINE ]]; then
    if [[ $rc == 0 ]]; then result=passed; else result=FAILED; status=1; fi
  elif [[ $rc == 1 ]]; then
    result=caught  # the test failed, as it must
  elif [[ $rc == 0 ]]; then
    result=SURVIVED; status=1
  else
    result="ERROR($rc)"; status=1
  fi
  printf '%-28s %-10s %ss solve %s %s\n' "$name" "$result" "$secs" "$curve" "$why"
  rm -rf "$work"
done
echo "logs: $out_dir"
exit $status
