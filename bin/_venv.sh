# Sourced by bin/serve and bin/test: makes .venv with Python 3.11+ and installs the pinned
# requirements when requirements.txt has changed since the last install.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

find_python() {
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
           "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return
        fi
    done
    echo "Casework needs Python 3.11 or newer on PATH." >&2
    exit 1
}

if [ ! -x .venv/bin/python ]; then
    "$(find_python)" -m venv .venv
fi
wanted=$(.venv/bin/python -c 'import hashlib; print(hashlib.sha256(open("requirements.txt","rb").read()).hexdigest())')
if [ "$(cat .venv/.requirements-sha 2>/dev/null || true)" != "$wanted" ]; then
    echo "Installing the pinned requirements into .venv ..."
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -r requirements.txt
    echo "$wanted" > .venv/.requirements-sha
fi
export PATH="$PWD/.venv/bin:$PATH"
python -m casework.web.catalogs compile >/dev/null
