#!/usr/bin/env bash
# A stand-in for docker.io/library/python:3.11-slim made from Debian's packages, for machines that
# cannot reach Docker Hub (test/packaging/image.test.ts runs the real image on it).
#
#   stand-in-base.sh WORK_DIR REQUIREMENTS_TXT CACHE_KEY
#
# debootstrap --variant=minbase bookworm, then python3 + venv + ca-certificates from Debian in a
# chroot, `python3 -m venv /usr/local` (python:3.11-slim's layout: /usr/local/bin/python and a
# global pip), the wheels REQUIREMENTS_TXT needs downloaded on the host into /wheels with a pip.conf
# of find-links + no-index (so `pip install -r requirements.txt` in a Dockerfile needs no network),
# committed into buildah's storage as docker.io/library/python:3.11-slim with the label
# io.mlship.stand-in=CACHE_KEY (the test rebuilds it when the key changes). Needs root.
set -euo pipefail
work="$1"; requirements="$2"; key="$3"
tag=docker.io/library/python:3.11-slim
mirror="${MLSHIP_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
rootfs="$work/rootfs"

rm -rf "$rootfs"
mkdir -p "$work"
echo "stand-in base: debootstrap --variant=minbase bookworm ($mirror)" >&2
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; exit 1; }

echo "stand-in base: python3, python3-venv, ca-certificates; python3 -m venv /usr/local" >&2
chroot "$rootfs" /usr/bin/env DEBIAN_FRONTEND=noninteractive sh -eu -c '
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends python3 python3-venv ca-certificates >/dev/null
  apt-get clean
  rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
  python3 -m venv /usr/local
' >"$work/chroot.log" 2>&1 || { tail -20 "$work/chroot.log" >&2; exit 1; }

echo "stand-in base: wheels for $(basename "$requirements") (pip download on the host)" >&2
mkdir -p "$rootfs/wheels"
# The wheels are for the image's interpreter (CPython 3.11, glibc x86_64), whatever the host runs.
PIP_RETRIES="${PIP_RETRIES:-0}" python3 -m pip download -q -r "$requirements" -d "$rootfs/wheels" --only-binary=:all: \
  --python-version 3.11 --implementation cp --abi cp311 \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  --platform manylinux_2_5_x86_64 --platform manylinux1_x86_64 --platform linux_x86_64
cat >"$rootfs/etc/pip.conf" <<'CONF'
[global]
find-links = /wheels
no-index = true
CONF

echo "stand-in base: commit $tag" >&2
ctr=$(buildah from scratch)
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
mnt=$(buildah mount "$ctr")
cp -a "$rootfs/." "$mnt/"
buildah umount "$ctr" >/dev/null
buildah config \
  --env PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env LANG=C.UTF-8 \
  --cmd python3 \
  --label io.mlship.stand-in="$key" \
  "$ctr"
buildah commit -q --format docker --rm "$ctr" "$tag" >/dev/null
trap - EXIT
rm -rf "$rootfs"
echo "stand-in base: ready ($tag, key $key)" >&2
