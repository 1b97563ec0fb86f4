#!/bin/sh
# Install (or upgrade) workshop from this archive, as root:
#   sudo ./install.sh [--trust DIR] [--prefix /opt] [--root DIR]
# - the bundle goes to PREFIX/workshop-VERSION, PREFIX/workshop points at the current one,
#   and /usr/local/bin/workshop and workshop-gui call it; older versions stay until removed;
# - --trust DIR copies the OEM and dealer root certificates (firmware/, baseline/,
#   workstation/, CRLs) to /etc/workshop/trust, owned by root and writable by nobody else:
#   the app refuses, for a real vehicle, a trust store other accounts can change;
# - per-user data (audit log, keys, package store, settings) lives in each user's
#   ~/.local/share/workshop and is never touched here, so it survives upgrades;
# - --root DIR installs under DIR instead of / (a staging tree; the tests use it).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
prefix=/opt
trust=""
root=""
while [ $# -gt 0 ]; do
  case "$1" in
    --trust) trust=$2; shift 2 ;;
    --prefix) prefix=$2; shift 2 ;;
    --root) root=$(cd "$2" && pwd); shift 2 ;;
    *) echo "usage: $0 [--trust DIR] [--prefix DIR] [--root DIR]" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" != 0 ]; then
  echo "run as root (sudo $0 ...): the trust store and the program must not be writable" \
       "by the technician's account" >&2
  exit 1
fi
version=$("$here/workshop/workshop" --version | awk '{print $NF}')
prefix="$root$prefix"
bin="$root/usr/local/bin"
share="$root/usr/share"
etc="$root/etc/workshop"
mkdir -p "$prefix" "$bin"
target="$prefix/workshop-$version"
rm -rf "$target.new"
cp -a "$here/workshop" "$target.new"
chown -R root:root "$target.new"
chmod -R go-w "$target.new"
rm -rf "$target"
mv "$target.new" "$target"
ln -sfn "$target" "$prefix/workshop"
ln -sf "$prefix/workshop/workshop" "$bin/workshop"
ln -sf "$prefix/workshop/workshop-gui" "$bin/workshop-gui"
install -D -m 0644 "$here/workshop.desktop" "$share/applications/workshop.desktop"
install -D -m 0644 "$target/_internal/resources/icons/workshop.png" \
  "$share/icons/hicolor/256x256/apps/workshop.png"
if [ -n "$trust" ]; then
  mkdir -p "$etc"
  chmod 0755 "$etc"
  rm -rf "$etc/trust.new"
  cp -R "$trust" "$etc/trust.new"
  chown -R root:root "$etc/trust.new"
  chmod -R u=rwX,go=rX "$etc/trust.new"
  rm -rf "$etc/trust"
  mv "$etc/trust.new" "$etc/trust"
  echo "trust store: $etc/trust"
fi
echo "installed workshop $version in $target; run 'workshop-gui' or 'workshop --help'"
