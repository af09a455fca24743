#!/usr/bin/env bash
# The gl benchmarks on a lent GPU machine (issue 13), in one call of the device tool.
#
# That machine (Python 3.12 with pip, numpy, PyYAML and typing-extensions in its image)
# has no pybullet (no 3.12 wheel), moderngl or gymnasium, and no EGL loader. Prepare
# once here, in the repository root (the device tool's README gives the same recipe):
#   echo /.gl/ >> .git/info/exclude; echo /.whl/ >> .git/info/exclude
#   mkdir -p .gl /tmp/amd64/partial; o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
#   apt-get $o update; (cd .gl && apt-get $o download libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
#     --platform manylinux1_x86_64 -d .whl moderngl glcontext gymnasium farama-notifications trimesh \
#     cloudpickle typing-extensions pyyaml
# then run `bash bench/device_gl.sh` there with carry [".gl", ".whl"]. It writes
# bench_scale.txt and frames_gpu_1.npz / frames_gpu_2.npz (two processes: same hash =
# bit-identical frames) to $OUT; compare them with a dump made here:
#   python -m bench.frames_agree dump cpu.npz && python -m bench.frames_agree compare cpu.npz frames_gpu_1.npz
# `bash bench/device_gl.sh CMD ARGS...` runs CMD there instead, in the same set-up.
# Exits non-zero if any step failed.
set -uo pipefail
shopt -s nullglob
out=${OUT:-/tmp/proassist_device}
mkdir -p "$out"
failed=0
debs=(.gl/*.deb)
[ ${#debs[@]} -gt 0 ] || { echo "no .gl/*.deb: prepare them first (see the header)"; exit 2; }
for f in "${debs[@]}"; do dpkg -x "$f" /; done  # the device tool's recipe: root, a bare machine
ldconfig
for vendor in /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json \
              /usr/share/glvnd/egl_vendor.d/10_nvidia.json; do
  if [ -f "$vendor" ]; then export __EGL_VENDOR_LIBRARY_FILENAMES=$vendor; break; fi
done
echo "EGL vendor file: ${__EGL_VENDOR_LIBRARY_FILENAMES:-none found (EGL may fall back to Mesa)}"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .whl/*.whl || exit 3
# the package without installing it: proassist/ = _proassist/ + the top-level folders
rm -rf /tmp/pkg && mkdir -p /tmp/pkg/proassist && cp _proassist/__init__.py /tmp/pkg/proassist/
for d in scenarios sim envs policies analysis; do ln -s "$PWD/$d" "/tmp/pkg/proassist/$d"; done
export PYTHONPATH=/tmp/site:/tmp/pkg:$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv || failed=1
if [ $# -gt 0 ]; then "$@"; exit $?; fi  # another command in the same set-up (an experiment)
for k in 1 2; do python3 -m bench.frames_agree dump "$out/frames_gpu_$k.npz" gl || failed=1; done
PROASSIST_BENCH_SIZES=${PROASSIST_BENCH_SIZES:-64,128,224,512} \
PROASSIST_BENCH_PROCS=${PROASSIST_BENCH_PROCS:-1,4,8,16} \
  timeout 480 python3 -m bench scale 2>&1 | tee "$out/bench_scale.txt" || failed=1
exit $failed
