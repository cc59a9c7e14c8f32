#!/usr/bin/env bash
# The installed package: cmake --install the build into a fresh prefix, then build and run a consumer against it
# three ways -- find_package(detcgd) with the shared and with the static library, and pkg-config with cc.
# Usage: tests/package_check.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" >/dev/null
for f in include/detcgd.h bin/detcgd share/detcgd/configs; do
  [ -e "$prefix/$f" ] || { echo "install: $f missing"; exit 1; }
done
libdir=$(dirname "$(find "$prefix" -name libdetcgd.so | head -1)")
[ -f "$libdir/libdetcgd.a" ] && [ -f "$libdir/pkgconfig/detcgd.pc" ] && [ -f "$libdir/cmake/detcgd/detcgdConfig.cmake" ] ||
  { echo "install: libraries, pkg-config file or CMake package missing under $libdir"; exit 1; }
"$prefix/bin/detcgd" --version

echo "== find_package(detcgd)"
cmake -S "$here/package" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/consumer" -j2 >/dev/null
LD_LIBRARY_PATH=$libdir "$work/consumer/consumer_shared"
"$work/consumer/consumer_static"
loaded=$(ldd "$work/consumer/consumer_shared") # (not piped into grep -q: its early exit would fail ldd under pipefail)
case $loaded in
  *"$libdir/libdetcgd.so"*) ;;
  *) echo "consumer_shared does not load $libdir/libdetcgd.so:"; echo "$loaded"; exit 1 ;;
esac

echo "== pkg-config"
export PKG_CONFIG_PATH=$libdir/pkgconfig
cc -std=c99 -Wall -Werror "$here/package/consumer.c" $(pkg-config --cflags --libs detcgd) -lm -o "$work/consumer_pc"
LD_LIBRARY_PATH=$libdir "$work/consumer_pc"
echo "package_check: ok"
