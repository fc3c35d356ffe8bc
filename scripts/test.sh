#!/usr/bin/env bash
# The test suite: sets up everything it needs, then runs pytest on CPU with
# 8 virtual devices (tests/conftest.py sets the XLA flag). Extra args go to pytest.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
exec python -m pytest tests "$@"
