#!/usr/bin/env bash
# Runs a command and reports its peak memory split by kind, sampled from /proc/PID/status every 0.1 s:
# RssAnon (the process's own heap), RssFile (mapped file pages: for Docket mostly LMDB's read-only map of
# the data file, i.e. page cache) and VmHWM (the kernel's peak of both). A sample can miss a peak in the last
# 0.1 s before exit, so with /usr/bin/time installed it also reports the exact maximum resident set size
# (getrusage's ru_maxrss, the figure the issue's memory target is checked against).
# Usage: tools/peak-rss.sh COMMAND [ARGS...]   (the command's stdout and stderr pass through)
set -u
if [ $# -eq 0 ]; then echo "usage: tools/peak-rss.sh COMMAND [ARGS...]" >&2; exit 64; fi
exact=""
if [ -x /usr/bin/time ]; then
  exact="$(mktemp)"
  /usr/bin/time -f '%M' -o "$exact" "$@" &
  runner=$!
  pid=""
  for _ in $(seq 1 50); do pid="$(pgrep -P "$runner" | head -1)"; [ -n "$pid" ] && break; sleep 0.02; done
  pid="${pid:-$runner}"
else
  "$@" &
  runner=$!
  pid=$runner
fi
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
wait "$runner"; rc=$?
line="peak RssAnon $((anon / 1024)) MB, peak RssFile $((file / 1024)) MB, VmHWM $((hwm / 1024)) MB (sampled)"
if [ -n "$exact" ]; then
  max="$(tail -1 "$exact" 2>/dev/null)"
  rm -f "$exact"
  [[ "$max" =~ ^[0-9]+$ ]] && line="$line; maximum resident set size $((max / 1024)) MB (exact)"
fi
echo "$line (exit $rc)" >&2
exit $rc
