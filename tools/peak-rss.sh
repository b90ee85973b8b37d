#!/usr/bin/env bash
# Runs a command and reports its peak memory split by kind, sampled from /proc/PID/status every 0.1 s:
# RssAnon (the process's own heap), RssFile (mapped file pages: for Docket mostly LMDB's read-only map of
# the data file, i.e. page cache) and VmHWM (the kernel's peak of both).
# Usage: tools/peak-rss.sh COMMAND [ARGS...]   (the command's stdout and stderr pass through)
set -u
if [ $# -eq 0 ]; then echo "usage: tools/peak-rss.sh COMMAND [ARGS...]" >&2; exit 64; fi
"$@" &
pid=$!
anon=0; file=0; hwm=0
while kill -0 "$pid" 2>/dev/null; do
  if status=$(cat "/proc/$pid/status" 2>/dev/null); then
    a=$(awk '/^RssAnon:/{print $2}' <<<"$status"); f=$(awk '/^RssFile:/{print $2}' <<<"$status"); h=$(awk '/^VmHWM:/{print $2}' <<<"$status")
    [ -n "$a" ] && [ "$a" -gt "$anon" ] && anon=$a
    [ -n "$f" ] && [ "$f" -gt "$file" ] && file=$f
    [ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
  fi
  sleep 0.1
done
wait "$pid"; rc=$?
echo "peak RssAnon $((anon / 1024)) MB, peak RssFile $((file / 1024)) MB, VmHWM $((hwm / 1024)) MB (exit $rc)" >&2
exit $rc
