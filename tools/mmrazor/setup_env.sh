#!/usr/bin/env bash
# Build the environment MMRazor 1.0 runs in (it does not import under
# torch >= 2), for tools/mmrazor/make_fixtures.py and
# tools/mmrazor/check_mmofa_files.py. Needs Python 3.10 and the package
# registry; about 5 GB, mostly torch 1.13.1 and its CUDA libraries.
#   bash tools/mmrazor/setup_env.sh [ENV_DIR]     # default work_dirs/mmrazor_env
# PYTHON310 picks the interpreter (default: python3.10, else pyenv's 3.10.13).
set -euo pipefail
ENV_DIR=${1:-work_dirs/mmrazor_env}
if [ -z "${PYTHON310:-}" ]; then
    if command -v python3.10 >/dev/null; then
        PYTHON310=python3.10
    elif [ -x "$HOME/.pyenv/versions/3.10.13/bin/python" ]; then
        PYTHON310=$HOME/.pyenv/versions/3.10.13/bin/python
    else
        echo "no Python 3.10 found: set PYTHON310=/path/to/python3.10" >&2
        exit 2
    fi
fi
"$PYTHON310" -m venv "$ENV_DIR"
pip=("$ENV_DIR/bin/pip" install --quiet)
"${pip[@]}" torch==1.13.1 torchvision==0.14.1 numpy==1.23.5 \
    mmengine==0.10.7 mmcv-lite==2.0.1 opencv-python==4.8.1.78 \
    joblib ordered-set modelindex rich matplotlib
# Their metadata asks for mmcv/mmcls versions this set replaces.
"${pip[@]}" --no-deps mmcls==1.0.0rc6 mmrazor==1.0.0
"$ENV_DIR/bin/python" -c "import mmrazor, mmcls, torch, numpy; print(
    'mmrazor', mmrazor.__version__, 'mmcls', mmcls.__version__,
    'torch', torch.__version__, 'numpy', numpy.__version__)"
echo "MMRazor environment ready: $ENV_DIR/bin/python"
