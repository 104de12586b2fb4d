#!/usr/bin/env bash
# Installs, from Debian's packages, what postdesk's build (and with `tests`, its test
# suite) needs and this machine lacks. As root it runs apt-get; otherwise it says
# what to install and fails.
set -euo pipefail
need=()
command -v pkg-config >/dev/null || need+=(pkg-config)
[ -f /usr/include/openssl/ssl.h ] || need+=(libssl-dev)
if [ "${1:-}" = tests ]; then
  # The IMAP tests run a real Dovecot on loopback with certificates made by openssl.
  [ -x /usr/sbin/dovecot ] || need+=(dovecot-imapd)
  command -v openssl >/dev/null || need+=(openssl)
  # The terminal-output tests run postdesk on a pseudo-terminal with script(1).
  command -v script >/dev/null || need+=(bsdutils)
  # The shared-desk tests make a group and users and run postdesk as them;
  # the doctor tests hold the database with flock(1).
  [ -x /usr/sbin/useradd ] || need+=(passwd)
  command -v setpriv >/dev/null && command -v flock >/dev/null || need+=(util-linux)
  # The service-level tests set the clock with libfaketime (LD_PRELOAD).
  command -v faketime >/dev/null || need+=(faketime)
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "postdesk needs: ${need[*]} (sudo apt-get install ${need[*]})" >&2
  exit 1
fi
