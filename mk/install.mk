# SPDX-License-Identifier: Apache-2.0
# mk/install.mk: `make install`, `make uninstall` and the post-install steps for clemap-edge.
#
# Included by the main Makefile (`include mk/install.mk`, after its `release` target), or used on its
# own from anywhere: `make -f mk/install.mk install BIN=.build/debug/clemap-edge DESTDIR=/tmp/stage`.
#
#   make install                     builds the release binary (target `release`) and installs it all
#   make install BIN=path            installs that binary instead of building (tests, cross builds)
#   make install DESTDIR=/tmp/stage  stages the tree under /tmp/stage (packaging, tests)
#   make install PREFIX=/usr         binary in /usr/bin, unit, sysusers.d and udev rules under /usr/lib
#   make uninstall                   removes what install added; never config.ini, never the database
#   make post-install                prints the commands that activate the installed service
#   make install-system              install, then run those commands (root, on a machine running systemd)
#   make test-install                the tests in integration/install (see systemd/INSTALL.md)
#
# What goes where (PREFIX=/usr/local, the default):
#   /usr/local/bin/clemap-edge                           0755  the binary
#   /usr/local/lib/systemd/system/clemap-edge.service    0644  the unit; ExecStart= = $(BINDIR)/clemap-edge
#   /usr/local/lib/sysusers.d/clemap-edge.conf           0644  user clemap-edge, groups spi and gpio
#   /usr/local/lib/udev/rules.d/60-clemap-edge.rules     0644  spidev -> group spi, gpiochip -> gpio, 0660
#   /etc/clemap-edge/config.ini                          0644  calibration/config.ini with
#                                                              db_path = /var/lib/clemap-edge/data_gathering.db;
#                                                              an existing config.ini is never overwritten:
#                                                              the new default goes to config.ini.new
# systemd, systemd-sysusers and udev all read /usr/local/lib/… as well as /usr/lib/…, and a file of
# the same name in /etc overrides either, so /etc stays the administrator's. For a PREFIX other than
# /usr or /usr/local (which systemd never searches) the three go to /etc/… instead. Each directory
# can be set on the command line: BINDIR, SYSTEMDUNITDIR, SYSUSERSDIR, UDEVRULESDIR. /etc/clemap-edge and
# /var/lib/clemap-edge are fixed by the unit (ConfigurationDirectory=, StateDirectory=); systemd creates
# the database directory at the first start.

CLEMAP_INSTALL_MK := $(lastword $(MAKEFILE_LIST))
CLEMAP_SRCDIR     := $(patsubst %/,%,$(dir $(abspath $(dir $(CLEMAP_INSTALL_MK)))))
CLEMAP_SAVED_GOAL := $(.DEFAULT_GOAL)
# The makefile make was started with (the main Makefile, or this file used on its own).
CLEMAP_TOP_MAKEFILE := $(abspath $(firstword $(MAKEFILE_LIST)))

SWIFT          ?= swift
INSTALL        ?= install
PREFIX         ?= /usr/local
DESTDIR        ?=
BIN            ?=
BINDIR         ?= $(PREFIX)/bin
# systemd's search paths include /usr/lib and /usr/local/lib, not other prefixes.
CLEMAP_LIBDIR   = $(if $(filter /usr /usr/local,$(patsubst %/,%,$(PREFIX))),$(patsubst %/,%,$(PREFIX))/lib)
SYSTEMDUNITDIR ?= $(if $(CLEMAP_LIBDIR),$(CLEMAP_LIBDIR)/systemd/system,/etc/systemd/system)
SYSUSERSDIR    ?= $(if $(CLEMAP_LIBDIR),$(CLEMAP_LIBDIR)/sysusers.d,/etc/sysusers.d)
UDEVRULESDIR   ?= $(if $(CLEMAP_LIBDIR),$(CLEMAP_LIBDIR)/udev/rules.d,/etc/udev/rules.d)

# Fixed by the unit (ConfigurationDirectory=, StateDirectory=), so not settable here.
CLEMAP_CONFDIR := /etc/clemap-edge
CLEMAP_DB_PATH := /var/lib/clemap-edge/data_gathering.db
# The unit in the repository runs /usr/local/bin/clemap-edge; install rewrites that path to $(BINDIR).
CLEMAP_UNIT_EXEC := /usr/local/bin/clemap-edge

CLEMAP_D_BIN    = $(DESTDIR)$(BINDIR)/clemap-edge
CLEMAP_D_UNIT   = $(DESTDIR)$(SYSTEMDUNITDIR)/clemap-edge.service
CLEMAP_D_USERS  = $(DESTDIR)$(SYSUSERSDIR)/clemap-edge.conf
CLEMAP_D_RULES  = $(DESTDIR)$(UDEVRULESDIR)/60-clemap-edge.rules
CLEMAP_D_CONF   = $(DESTDIR)$(CLEMAP_CONFDIR)/config.ini

# The default config.ini with the database in the StateDirectory (the repository's copy keeps its
# relative DB/data_gathering.db, which would resolve into the read-only /etc/clemap-edge).
CLEMAP_CONFIG_SED = sed -e 's|^db_path[[:space:]]*=.*$$|db_path = $(CLEMAP_DB_PATH)|' '$(CLEMAP_SRCDIR)/calibration/config.ini'

# The activation steps, printed after install and by `make post-install` (one shell command).
CLEMAP_POST_INSTALL = echo ""; \
	echo "clemap-edge is installed$(if $(DESTDIR), under DESTDIR=$(DESTDIR): a staged tree; copy it to the Pi's /)."; \
	echo "Activate it, as root on the Pi:"; \
	echo "  systemd-sysusers $(SYSUSERSDIR)/clemap-edge.conf"; \
	echo "  udevadm control --reload && udevadm trigger --subsystem-match=spidev --subsystem-match=gpio"; \
	echo "  systemctl daemon-reload"; \
	echo "  systemctl enable --now clemap-edge     (after an upgrade: systemctl restart clemap-edge)"; \
	echo "Check it: systemctl status clemap-edge; journalctl -u clemap-edge -f"; \
	echo "Database: $(CLEMAP_DB_PATH); configuration: $(CLEMAP_CONFDIR)/config.ini"; \
	echo "('make install-system' installs and runs the four steps.)"

.PHONY: install uninstall post-install install-system install-help test-install

## Install the binary, the systemd unit, sysusers.d and udev files and a default config.ini (see mk/install.mk).
install: $(if $(BIN),,release)
	@set -e; \
	bin='$(BIN)'; \
	if [ -z "$$bin" ]; then bin="$$($(SWIFT) build -c release --package-path '$(CLEMAP_SRCDIR)' --show-bin-path)/clemap-edge"; fi; \
	if [ ! -f "$$bin" ] || [ ! -x "$$bin" ]; then \
		echo "install: $$bin is not an executable file: run 'make release', or pass BIN=<path to clemap-edge>" >&2; exit 1; fi; \
	echo "install: clemap-edge into DESTDIR='$(DESTDIR)' PREFIX=$(PREFIX)"; \
	for dir in '$(DESTDIR)$(BINDIR)' '$(DESTDIR)$(SYSTEMDUNITDIR)' '$(DESTDIR)$(SYSUSERSDIR)' \
		'$(DESTDIR)$(UDEVRULESDIR)' '$(DESTDIR)$(CLEMAP_CONFDIR)'; do \
		[ -d "$$dir" ] || $(INSTALL) -d -m 0755 "$$dir"; done; \
	echo "  $(CLEMAP_D_BIN)  (0755, from $$bin)"; \
	$(INSTALL) -m 0755 "$$bin" '$(CLEMAP_D_BIN)'; \
	echo "  $(CLEMAP_D_UNIT)  (0644, ExecStart=$(BINDIR)/clemap-edge …)"; \
	sed -e 's|^ExecStart=$(CLEMAP_UNIT_EXEC) |ExecStart=$(BINDIR)/clemap-edge |' \
		'$(CLEMAP_SRCDIR)/systemd/clemap-edge.service' > '$(CLEMAP_D_UNIT).tmp'; \
	grep -q '^ExecStart=$(BINDIR)/clemap-edge run ' '$(CLEMAP_D_UNIT).tmp' || { rm -f '$(CLEMAP_D_UNIT).tmp'; \
		echo "install: systemd/clemap-edge.service has no 'ExecStart=$(CLEMAP_UNIT_EXEC) run' line to rewrite" >&2; exit 1; }; \
	chmod 0644 '$(CLEMAP_D_UNIT).tmp'; mv -f '$(CLEMAP_D_UNIT).tmp' '$(CLEMAP_D_UNIT)'; \
	echo "  $(CLEMAP_D_USERS)  (0644)"; \
	$(INSTALL) -m 0644 '$(CLEMAP_SRCDIR)/systemd/clemap-edge.sysusers' '$(CLEMAP_D_USERS)'; \
	echo "  $(CLEMAP_D_RULES)  (0644)"; \
	$(INSTALL) -m 0644 '$(CLEMAP_SRCDIR)/udev/60-clemap-edge.rules' '$(CLEMAP_D_RULES)'; \
	$(CLEMAP_CONFIG_SED) > '$(CLEMAP_D_CONF).tmp'; \
	grep -qx 'db_path = $(CLEMAP_DB_PATH)' '$(CLEMAP_D_CONF).tmp' || { rm -f '$(CLEMAP_D_CONF).tmp'; \
		echo "install: calibration/config.ini has no db_path line to point at $(CLEMAP_DB_PATH)" >&2; exit 1; }; \
	chmod 0644 '$(CLEMAP_D_CONF).tmp'; \
	if [ ! -e '$(CLEMAP_D_CONF)' ]; then \
		echo "  $(CLEMAP_D_CONF)  (0644, db_path = $(CLEMAP_DB_PATH))"; \
		mv -f '$(CLEMAP_D_CONF).tmp' '$(CLEMAP_D_CONF)'; \
	elif cmp -s '$(CLEMAP_D_CONF).tmp' '$(CLEMAP_D_CONF)'; then \
		echo "  $(CLEMAP_D_CONF)  kept (same as the default)"; \
		rm -f '$(CLEMAP_D_CONF).tmp' '$(CLEMAP_D_CONF).new'; \
	else \
		echo "  $(CLEMAP_D_CONF)  kept (it differs from the default; not overwritten)"; \
		echo "  $(CLEMAP_D_CONF).new  (0644, the new default: compare with 'diff -u $(CLEMAP_CONFDIR)/config.ini $(CLEMAP_CONFDIR)/config.ini.new')"; \
		mv -f '$(CLEMAP_D_CONF).tmp' '$(CLEMAP_D_CONF).new'; \
	fi
	@$(if $(CLEMAP_QUIET_POST_INSTALL),:,$(CLEMAP_POST_INSTALL))

## Print the commands that activate an installed clemap-edge (users, udev, systemd).
post-install:
	@$(CLEMAP_POST_INSTALL)

## Install, then create the user, reload udev and systemd, and enable and start the service (root, systemd).
install-system:
	@set -e; \
	if [ -n '$(DESTDIR)' ]; then echo "install-system: DESTDIR is set; install, copy the tree to the target, and activate it there ('make post-install' lists the steps)" >&2; exit 1; fi; \
	if [ "$$(id -u)" != 0 ]; then echo "install-system: run as root (sudo make install-system)" >&2; exit 1; fi; \
	if [ ! -d /run/systemd/system ]; then echo "install-system: systemd is not running here; use 'make install' and follow 'make post-install' on the target" >&2; exit 1; fi
	@$(MAKE) --no-print-directory -f '$(CLEMAP_TOP_MAKEFILE)' install CLEMAP_QUIET_POST_INSTALL=1
	@set -e; \
	for step in 'systemd-sysusers $(SYSUSERSDIR)/clemap-edge.conf' \
		'udevadm control --reload' 'udevadm trigger --subsystem-match=spidev --subsystem-match=gpio' \
		'systemctl daemon-reload' 'systemctl enable --now clemap-edge'; do \
		echo "+ $$step"; $$step; done; \
	echo "clemap-edge is enabled and running: systemctl status clemap-edge; journalctl -u clemap-edge -f"

## Remove what install added. Keeps config.ini (and config.ini.new unless it is the untouched default) and the database.
uninstall:
	@set -e; \
	echo "uninstall: clemap-edge from DESTDIR='$(DESTDIR)' PREFIX=$(PREFIX)"; \
	for file in '$(CLEMAP_D_BIN)' '$(CLEMAP_D_UNIT)' '$(CLEMAP_D_USERS)' '$(CLEMAP_D_RULES)'; do \
		if [ -e "$$file" ] || [ -L "$$file" ]; then echo "  removed $$file"; rm -f "$$file"; fi; done; \
	if [ -e '$(CLEMAP_D_CONF).new' ] && $(CLEMAP_CONFIG_SED) | cmp -s - '$(CLEMAP_D_CONF).new'; then \
		echo "  removed $(CLEMAP_D_CONF).new (the untouched default)"; rm -f '$(CLEMAP_D_CONF).new'; fi; \
	echo "  kept $(DESTDIR)$(CLEMAP_CONFDIR)/ (your configuration) and $(DESTDIR)/var/lib/clemap-edge/ (the database)"; \
	echo "On a running system first: systemctl disable --now clemap-edge; afterwards: systemctl daemon-reload"; \
	echo "The user clemap-edge stays (sysusers never removes users); remove it with: userdel clemap-edge"

## The installation tests (integration/install); CLEMAP_LIVE_SYSTEMD=1 adds the run under a real systemd (root).
test-install:
	@'$(CLEMAP_SRCDIR)/scripts/ensure-deps.sh' make systemd udev umockdev
	@python3 -m pytest --version >/dev/null 2>&1 || python3 -m pip install -q pytest
	python3 -m pytest -q -rs -p no:cacheprovider '$(CLEMAP_SRCDIR)/integration/install'

install-help:
	@awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' '$(CLEMAP_INSTALL_MK)'

# Used on its own (make -f mk/install.mk): provide the `release` target the main Makefile has.
ifeq ($(abspath $(firstword $(MAKEFILE_LIST))),$(abspath $(CLEMAP_INSTALL_MK)))
.PHONY: release
release:
	$(SWIFT) build -c release --package-path '$(CLEMAP_SRCDIR)'
.DEFAULT_GOAL := install-help
else
# Included: leave the including Makefile's default goal alone.
.DEFAULT_GOAL := $(CLEMAP_SAVED_GOAL)
endif
