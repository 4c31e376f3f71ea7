#!/usr/bin/env bash
# Makes this checkout runnable: TorchSharp's native library loadable, NuGet packages restored.
# Idempotent: when nothing is missing it only checks and returns within a few seconds.
# Usage: scripts/bootstrap.sh [--quiet] [--mpi]
#   --mpi  also installs MPICH (data-parallel training: mpiexec -n K ./diffpriv train ...) and makes mpiexec resolve to it.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
quiet=0
mpi=0
for arg in "$@"; do
  case "$arg" in
    --quiet) quiet=1 ;;
    --mpi) mpi=1 ;;
    *) echo "bootstrap: unknown option $arg (usage: scripts/bootstrap.sh [--quiet] [--mpi])" >&2; exit 2 ;;
  esac
done
say() { [ "$quiet" = 1 ] || echo "bootstrap: $*" >&2; }
die() { echo "bootstrap: $*" >&2; exit 1; }

command -v dotnet >/dev/null 2>&1 || die "the .NET SDK is missing: install .NET 10 (https://dot.net) and put dotnet on PATH."

# --- 1. libstdc++ new enough for TorchSharp's libLibTorchSharp.so (needs GLIBCXX_3.4.32, GCC 13+) ---
needed="GLIBCXX_3.4.32"
libstdcxx_ok() {
  local lib
  for lib in /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib/aarch64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6 /usr/lib/libstdc++.so.6; do
    if [ -e "$lib" ] && grep -aq "$needed" "$lib"; then return 0; fi
  done
  return 1
}

if [ "$(uname -s)" = "Linux" ] && ! libstdcxx_ok; then
  debian_major=""
  [ -r /etc/debian_version ] && debian_major="$(cut -d. -f1 < /etc/debian_version)"
  if [ "$debian_major" = "12" ] && [ "$(id -u)" = "0" ]; then
    say "libstdc++ lacks $needed (Debian 12 ships GCC 12's); installing libstdc++6 from Debian 13 (trixie)."
    uri=""
    if [ -r /etc/apt/sources.list.d/debian.sources ]; then
      # The first URIs value of a stanza whose suites are the main archive (not -security).
      uri="$(awk '/^URIs:/{u=$2} /^Suites:/{ if ($0 !~ /security/ && u != "") { print u; exit } }' /etc/apt/sources.list.d/debian.sources)"
    fi
    if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
      uri="$(awk '$1=="deb" && $0 !~ /security/ { for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)"
    fi
    [ -n "$uri" ] || die "could not find the Debian archive URI in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list."
    keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    cat > /etc/apt/sources.list.d/diffpriv-trixie.sources <<SRC
Types: deb
URIs: $uri
Suites: trixie
Components: main
Signed-By: $keyring
SRC
    # Low priority: nothing else is taken from trixie unless asked for with -t trixie.
    cat > /etc/apt/preferences.d/diffpriv-trixie <<PIN
Package: *
Pin: release n=trixie
Pin-Priority: 100
PIN
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || die "apt-get update failed (see above)."
    apt-get install -y -qq -t trixie libstdc++6 >/dev/null || die "apt-get install -t trixie libstdc++6 failed."
    libstdcxx_ok || die "libstdc++6 from trixie was installed but $needed is still missing."
    say "libstdc++ now provides $needed."
  else
    cat >&2 <<MSG
bootstrap: TorchSharp needs libstdc++ with $needed (GCC 13 or newer); this system's is older.
  Debian 12:      run this script as root, or add the trixie suite and run: apt-get install -t trixie libstdc++6
  Ubuntu 22.04:   add-apt-repository ppa:ubuntu-toolchain-r/test && apt-get install libstdc++6
  Other systems:  install libstdc++ from GCC 13+ with your package manager.
MSG
    exit 1
  fi
fi

# --- 2. NuGet packages, restored when a project or package file is newer than the last restore ---
stamp="$root/.cache/restore.stamp"
mkdir -p "$root/.cache"
if [ ! -e "$stamp" ] || [ -n "$(find "$root" \( -name '*.csproj' -o -name 'Directory.*.props' -o -name 'Directory.*.targets' -o -name 'global.json' -o -name '*.slnx' \) -not -path '*/bin/*' -not -path '*/obj/*' -newer "$stamp" -print -quit)" ] \
   || [ -z "$(find "$root" -path '*/obj/project.assets.json' -print -quit)" ]; then
  say "restoring NuGet packages"
  dotnet restore "$root/DiffPriv.slnx" --verbosity quiet >&2 || die "dotnet restore failed (see above)."
  touch "$stamp"
fi

# --- 3. MPICH, with --mpi: DiffPriv.Distributed binds MPICH's ABI (libmpich.so.12); Open MPI's differs ---
mpich_ok() { command -v mpiexec.mpich >/dev/null 2>&1 && ldconfig -p 2>/dev/null | grep -q 'libmpich\.so\.12 '; }
if [ "$mpi" = 1 ]; then
  if ! mpich_ok; then
    if [ -r /etc/debian_version ] && [ "$(id -u)" = "0" ]; then
      say "installing MPICH (apt-get install mpich)"
      export DEBIAN_FRONTEND=noninteractive
      apt-get install -y -qq mpich >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq mpich >/dev/null; } \
        || die "apt-get install mpich failed (see above)."
    else
      die "data-parallel training needs MPICH (libmpich.so.12 and mpiexec.mpich): install it with your package manager (Debian/Ubuntu: apt-get install mpich; Fedora: dnf install mpich), or run this script as root on Debian."
    fi
    mpich_ok || die "MPICH was installed but libmpich.so.12 or mpiexec.mpich is still missing."
  fi
  # Open MPI may be installed beside MPICH and own the mpiexec name: point it at MPICH's launcher.
  if [ "$(readlink -f "$(command -v mpiexec 2>/dev/null || echo none)")" != "$(readlink -f "$(command -v mpiexec.mpich)")" ]; then
    if [ "$(id -u)" = "0" ] && update-alternatives --set mpirun "$(command -v mpirun.mpich)" >/dev/null 2>&1; then
      say "mpiexec now resolves to MPICH's launcher"
    else
      say "note: mpiexec is not MPICH's launcher here; start data-parallel runs with mpiexec.mpich"
    fi
  fi
fi
