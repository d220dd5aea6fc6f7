#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# PID 1 of the private namespaces test_live_systemd.py creates (pid, mount, uts, ipc, net, cgroup): make
# them look like a container, then exec systemd as the system manager. Nothing here reaches the host:
#   /etc, /var, /usr/local   overlays whose writes land in $1/upper (make install, sysusers, the database)
#   /run, /tmp, /dev         fresh tmpfs (a few device nodes, a new devpts); /dev/console is $1/console.log
#   /sys, /proc/sys          read only, so systemd skips udev, sysctl and binfmt; /sys/fs/cgroup is a cgroup2
#                            mount rooted at the test's own cgroup
#   no CAP_SYS_TIME, no CAP_SYS_MODULE: timesyncd and modprobe@ are skipped, the clock is never set.
# Usage: live_systemd_init.sh <work dir> <clemap-edge binary> <repository>
set -eu
work=$1
binary=$2
repo=$3

mount -t sysfs -o ro,nosuid,nodev,noexec sysfs /sys
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup
mount --bind /proc/sys /proc/sys
mount -o remount,bind,ro /proc/sys
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
for dir in etc var usr/local; do
    mkdir -p "$work/upper/$dir" "$work/work/$dir"
    mount -t overlay overlay -o "lowerdir=/$dir,upperdir=$work/upper/$dir,workdir=$work/work/$dir" "/$dir"
done
# The binary and the files `make install` reads must stay reachable after /tmp is covered (the repository
# may itself live under /tmp, as in a CI clone) and under the unit's PrivateTmp=.
cp "$binary" /run/clemap-edge.bin
mkdir -p /run/clemap-src
cp -a "$repo/Makefile" "$repo/mk" "$repo/systemd" "$repo/udev" "$repo/calibration" "$repo/scripts" /run/clemap-src/

mount -t tmpfs -o mode=0755,nosuid tmpfs /dev
mknod -m 666 /dev/null c 1 3
mknod -m 666 /dev/zero c 1 5
mknod -m 666 /dev/full c 1 7
mknod -m 666 /dev/random c 1 8
mknod -m 666 /dev/urandom c 1 9
mknod -m 666 /dev/tty c 5 0
mkdir /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts /dev/pts
ln -s pts/ptmx /dev/ptmx
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
mount -t mqueue mqueue /dev/mqueue
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
touch /dev/console "$work/console.log"
mount --bind "$work/console.log" /dev/console

# Boot into a target that starts nothing but the journal; the test starts the rest.
mkdir -p /run/systemd/system /run/systemd/journald.conf.d
cat > /run/systemd/system/clemap-live.target <<'UNIT'
[Unit]
Description=clemap-edge live test
DefaultDependencies=no
Wants=systemd-journald.socket systemd-journald.service
UNIT
printf '[Journal]\nStorage=volatile\nForwardToConsole=no\n' > /run/systemd/journald.conf.d/clemap-live.conf

mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
export container=clemap-live
exec setpriv --bounding-set -sys_time,-sys_module \
    /lib/systemd/systemd --unit=clemap-live.target --show-status=0 --log-target=journal
