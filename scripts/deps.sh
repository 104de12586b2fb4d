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
  # The mail-out tests run a private Postfix on loopback (and its sendmail).
  [ -x /usr/sbin/postfix ] || need+=(postfix)
  # The service-level tests set the clock with libfaketime (LD_PRELOAD).
  command -v faketime >/dev/null || need+=(faketime)
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing ${need[*]}" >&2
  if [[ " ${need[*]} " == *" postfix "* ]]; then
    # "No configuration": no /etc/postfix/main.cf, no system Postfix on port 25;
    # the tests run their own instances with their own config directories.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "postdesk needs: ${need[*]} (sudo apt-get install ${need[*]})" >&2
  exit 1
fi
