#!/bin/sh
# `scripts/busy.sh COMMAND…`: runs the command, then prints its wall time and how busy the whole machine was
# meanwhile, in core-seconds from /proc/stat (every process counts: Chromium's, the command line's children,
# and anything else running, so measure on an otherwise idle machine). How docs/testing.md's figures per
# test file were taken: `scripts/busy.sh node scripts/test.mjs test/report.test.ts`.
read -r _ u n s i w x y z rest < /proc/stat
t0=$(date +%s.%N); b0=$((u + n + s + x + y + z))
"$@"
status=$?
read -r _ u n s i w x y z rest < /proc/stat
t1=$(date +%s.%N); b1=$((u + n + s + x + y + z))
echo "wall $(echo "$t1 - $t0" | bc) s, machine busy $(echo "scale=1; ($b1 - $b0) / $(getconf CLK_TCK)" | bc) core-seconds" >&2
exit $status
