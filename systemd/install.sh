#!/usr/bin/env bash
# Installs camd on a systemd host (tested on Debian 12):
#   cargo build --profile dist && sudo systemd/install.sh
# Installs the binaries, their man pages and shell completions, the units,
# the system user, the folders, the configuration (kept if present), a fresh
# pepper (kept if present), the monitoring examples, then enables and starts
# camd.socket (camd starts on the first connection).
#
# DESTDIR=/some/folder stages the files there instead, without creating
# users or touching systemd (used by the tests and by packagers).
set -euo pipefail
cd "$(dirname "$0")/.."

DESTDIR="${DESTDIR:-}"
BIN="${BIN:-target/dist}"

for b in camd camctl camd-api; do
    [[ -x "$BIN/$b" ]] || { echo "install.sh: $BIN/$b is missing; run 'cargo build --profile dist' first" >&2; exit 1; }
done
if [[ -z "$DESTDIR" && $(id -u) -ne 0 ]]; then
    echo "install.sh: run as root (or set DESTDIR to stage the files)" >&2
    exit 1
fi

install -d -m 0755 "$DESTDIR/usr/local/bin" "$DESTDIR/etc/systemd/system" \
    "$DESTDIR/usr/lib/sysusers.d" "$DESTDIR/usr/lib/tmpfiles.d" \
    "$DESTDIR/etc/camd" "$DESTDIR/etc/camd/policies"
install -m 0755 "$BIN/camd" "$BIN/camctl" "$BIN/camd-api" "$DESTDIR/usr/local/bin/"
install -m 0644 systemd/camd.service systemd/camd.socket systemd/camd-api.service \
    systemd/camd-api.socket "$DESTDIR/etc/systemd/system/"
install -m 0644 systemd/camd.sysusers "$DESTDIR/usr/lib/sysusers.d/camd.conf"
install -m 0644 systemd/camd.tmpfiles "$DESTDIR/usr/lib/tmpfiles.d/camd.conf"
# Man pages and completions, generated from the binaries' own definitions.
man="$DESTDIR/usr/local/share/man/man1"
install -d -m 0755 "$man" "$DESTDIR/usr/share/bash-completion/completions" \
    "$DESTDIR/usr/share/zsh/vendor-completions" "$DESTDIR/usr/share/fish/vendor_completions.d" \
    "$DESTDIR/usr/local/share/doc/camd/monitoring"
"$BIN/camctl" man "$man"
"$BIN/camd" --man "$man"
"$BIN/camd-api" --help > /dev/null
chmod 0644 "$man"/*.1
for b in camd camctl; do
    if [[ "$b" == camd ]]; then gen=("$BIN/camd" --completions); else gen=("$BIN/camctl" completions); fi
    "${gen[@]}" bash > "$DESTDIR/usr/share/bash-completion/completions/$b"
    "${gen[@]}" zsh > "$DESTDIR/usr/share/zsh/vendor-completions/_$b"
    "${gen[@]}" fish > "$DESTDIR/usr/share/fish/vendor_completions.d/$b.fish"
done
# The Grafana dashboard and Prometheus alert rules, to copy where they are used.
install -m 0644 config/monitoring/* "$DESTDIR/usr/local/share/doc/camd/monitoring/"
# The configuration, the pepper, the sealing key and the TLS certificate
# are the operator's: never overwritten.
if [[ ! -e "$DESTDIR/etc/camd/camd.toml" ]]; then
    install -m 0644 config/installed.toml "$DESTDIR/etc/camd/camd.toml"
fi
if [[ ! -e "$DESTDIR/etc/camd/pepper" ]]; then
    (umask 077 && head -c 32 /dev/urandom > "$DESTDIR/etc/camd/pepper")
fi
chmod 0600 "$DESTDIR/etc/camd/pepper"
if [[ ! -e "$DESTDIR/etc/camd/sealing-key" ]]; then
    (umask 077 && head -c 32 /dev/urandom > "$DESTDIR/etc/camd/sealing-key")
fi
chmod 0600 "$DESTDIR/etc/camd/sealing-key"
# camd-api's certificate: a self-signed one for this host unless one is there
# (replace both files with your own and restart camd-api).
install -d -m 0755 "$DESTDIR/etc/camd/api"
if [[ ! -e "$DESTDIR/etc/camd/api/tls.crt" ]]; then
    "$BIN/camd-api" --tls-cert "$DESTDIR/etc/camd/api/tls.crt" \
        --tls-key "$DESTDIR/etc/camd/api/tls.key" \
        --self-signed localhost "$(hostname -f 2>/dev/null || hostname)" >/dev/null
fi

if [[ -n "$DESTDIR" ]]; then
    echo "install.sh: staged under $DESTDIR"
    exit 0
fi
systemd-sysusers /usr/lib/sysusers.d/camd.conf
systemd-tmpfiles --create /usr/lib/tmpfiles.d/camd.conf
systemctl daemon-reload
systemctl enable --now camd.socket
echo "install.sh: camd.socket is listening on /run/camd/camd.sock"
echo "  CAM's HTTP API (Tencent's SDKs, tccli): systemctl enable --now camd-api.socket  (https on port 9443)"
echo "  add users who may query camd to the group: usermod -aG camd-clients <user>"
echo "  check:  camctl status   (as root)"
