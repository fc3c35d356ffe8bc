#!/usr/bin/env bash
# The main job: sets up everything it needs, then runs the project's headline
# job: the tiny CPU RLEF pipeline (SFT warm start -> RLEF -> evaluation of both,
# gin/tiny_cpu.gin) into runs/tiny_cpu. Launching it again resumes from the
# latest checkpoints. Extra args go to rlef_jax.main (e.g. --workdir=...).
# The main job needs the core packages and the data extra (seqio/TFDS; TensorFlow
# also backs clu's TensorBoard writer), not the test-only torch/transformers.
export RLEF_EXTRAS="${RLEF_EXTRAS:-data}"
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
exec python -m rlef_jax.main --gin_file=gin/tiny_cpu.gin "$@"
