#!/usr/bin/env bash
# The main job: sets up everything it needs, then runs the project's headline
# job (today: the gVisor judge on the shipped examples; later: the tiny CPU
# RLEF run on bundled data). Extra args go to rlef_jax.main.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
exec python -m rlef_jax.main --gin_file=gin/judge_examples.gin "$@"
