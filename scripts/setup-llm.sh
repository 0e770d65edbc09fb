#!/usr/bin/env bash
# Install a local OpenAI-compatible LLM server for Verity's optional LLM writer and its
# real-server tests: llama.cpp's server from PyPI `llama-cpp-python[server]`, built from
# its pinned, sha256-checked source distribution into a venv of Verity's own.
#
#   bash scripts/setup-llm.sh                 # venv in ./verity-data/llm-venv
#   bash scripts/setup-llm.sh --data DIR      # venv in DIR/llm-venv
#
# The C++ build takes a while (it prints how long); the built wheel is kept in
# DATA/wheels/, so a later run (or CI with the data dir cached) only installs it.
# The model it serves (SmolLM2-135M-Instruct GGUF) comes from scripts/setup-models.sh.
# Then:  DATA/llm-venv/bin/python -m llama_cpp.server --model MODELS/smollm2-135m/... --port 8081
#
# Settings: --data DIR / VERITY_DATA (default ./verity-data), PYTHON (default python3),
# VERITY_CACHE (download cache, default $HOME/.cache/verity).
set -euo pipefail

die() { echo "setup-llm: error: $*" >&2; exit 1; }
say() { echo "setup-llm: $*"; }
# Installs Debian package $1 (as root, else with sudo); $2 says why.
apt_install() {
    say "installing Debian's $1 ($2)"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$1" >/dev/null
}

# Pins. Change the version only together with its sha256 (of the source distribution).
LCP_VERSION="0.3.36"
LCP_SDIST_SHA256="832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"
# No multimodal helper (not used), and no -march=native: the cached wheel must run on any
# x86-64 machine that restores the data dir.
LCP_CMAKE_ARGS="-DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF"

DATA="${VERITY_DATA:-./verity-data}"
CACHE="${VERITY_CACHE:-${HOME:-.}/.cache/verity}"
PYTHON="${PYTHON:-python3}"
while [ $# -gt 0 ]; do
    case "$1" in
        --data) [ $# -ge 2 ] || die "--data needs a directory"; DATA="$2"; shift 2 ;;
        --data=*) DATA="${1#*=}"; shift ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (try --help)" ;;
    esac
done
command -v "$PYTHON" >/dev/null 2>&1 || die "'$PYTHON' not found; install Python 3 or set PYTHON"

VENV="$DATA/llm-venv"
WHEELS="$DATA/wheels"
SDIST_DIR="$CACHE/sdists/llama-cpp-python-$LCP_VERSION"
mkdir -p "$WHEELS" "$SDIST_DIR"

sha256_of() {
    "$PYTHON" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"
}

installed_version() {
    [ -x "$VENV/bin/python" ] || return 1
    "$VENV/bin/python" -c 'import llama_cpp, llama_cpp.server, uvicorn; print(llama_cpp.__version__)' 2>/dev/null
}

if [ "$(installed_version || true)" = "$LCP_VERSION" ]; then
    say "llama-cpp-python $LCP_VERSION (server) already installed in $VENV"
    exit 0
fi

wheel="$(find "$WHEELS" -maxdepth 1 -name "llama_cpp_python-$LCP_VERSION-*.whl" -print -quit)"
if [ -z "$wheel" ]; then
    sdist="$SDIST_DIR/llama_cpp_python-$LCP_VERSION.tar.gz"
    if [ ! -f "$sdist" ] || [ "$(sha256_of "$sdist")" != "$LCP_SDIST_SHA256" ]; then
        say "downloading llama-cpp-python==$LCP_VERSION (source) from the package index"
        rm -f "$sdist"
        "$PYTHON" -m pip download --no-deps --no-binary=llama-cpp-python --quiet \
            --dest "$SDIST_DIR" "llama-cpp-python==$LCP_VERSION" \
            || die "could not download llama-cpp-python==$LCP_VERSION"
    fi
    got="$(sha256_of "$sdist")"
    [ "$got" = "$LCP_SDIST_SHA256" ] \
        || die "$sdist: sha256 $got, expected $LCP_SDIST_SHA256; refusing to build it"
    if ! command -v c++ >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
        apt_install g++ "the build compiles C++"
    fi
    command -v c++ >/dev/null 2>&1 || die "no C++ compiler (c++) found; install g++ and run again"
    say "building llama-cpp-python $LCP_VERSION from source (C++; several minutes)"
    tmp="$(mktemp -d "$WHEELS/.build.XXXXXX")"
    started=$(date +%s)
    CMAKE_ARGS="$LCP_CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
        "$PYTHON" -m pip wheel --no-deps --quiet --wheel-dir "$tmp" "$sdist" \
        || { rm -rf "$tmp"; die "building llama-cpp-python failed (needs a C++ compiler)"; }
    say "built in $(($(date +%s) - started)) s"
    built="$(find "$tmp" -maxdepth 1 -name '*.whl' -print -quit)"
    [ -n "$built" ] || { rm -rf "$tmp"; die "the build produced no wheel"; }
    mv "$built" "$WHEELS/"
    rm -rf "$tmp"
    wheel="$WHEELS/$(basename "$built")"
fi

say "installing $(basename "$wheel") with its server extras into $VENV"
# Debian's python3 makes a venv only with its python3-venv package: install it when missing.
make_venv() {
    "$PYTHON" -m venv "$VENV" >/dev/null 2>&1 && return 0
    rm -rf "$VENV"
    command -v apt-get >/dev/null 2>&1 || die "cannot create a venv in $VENV; install Python's venv module"
    apt_install python3-venv "python -m venv failed"
    "$PYTHON" -m venv "$VENV" || die "cannot create a venv in $VENV"
}
[ -x "$VENV/bin/pip" ] || { rm -rf "$VENV"; make_venv; }
"$VENV/bin/python" -m pip install --quiet "$wheel[server]" \
    || die "could not install $wheel[server] into $VENV"
[ "$(installed_version || true)" = "$LCP_VERSION" ] || die "llama_cpp.server does not import in $VENV"
say "done: $VENV/bin/python -m llama_cpp.server"
