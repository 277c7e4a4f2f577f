# The in-test channel's client (sourced by bin/trellis and bin/megatest; POSIX sh, no Node).
# A test's call writes one request file into $TRELLIS_CHANNEL, the folder its job's runner (or
# `trellis exec`, or agent) follows, its name led by the job's key ($TRELLIS_CHANNEL_JOB), waits
# for the answer file, prints what it says and exits with its code.
# Only shell builtins run on the way, but for `sleep` while waiting (and `cat` when there is
# output). The format is src/runner/in-test-channel.ts's.

# Lengths below are bytes, as the follower counts them.
LC_ALL=C
export LC_ALL

# A request id in _tc_id: the job's key, then this process's pid and start time (/proc), never
# the same for two processes (set here, not printed: a command substitution would cost a fork).
trellis_channel_id() {
  if read -r _tc_stat < "/proc/$$/stat" 2>/dev/null; then
    _tc_stat=${_tc_stat##*) }
    # shellcheck disable=SC2086
    set -- $_tc_stat
    if [ $# -ge 20 ]; then
      eval "_tc_id=\$TRELLIS_CHANNEL_JOB.\$\$-\${20}"
      return
    fi
  fi
  _tc_id="$TRELLIS_CHANNEL_JOB.$$-$(date +%s%N 2>/dev/null || date +%s)"
}

# What a call is told once its job's process has ended (it is answered so while that runs).
trellis_channel_ended() {
  echo "$1: the test's steps have ended; trellis no longer answers (call it from a step while it runs)" >&2
}

# trellis_channel_call FRONT ARGS...: the whole call; returns the answer's exit code.
trellis_channel_call() {
  _tc_front=$1
  shift
  _tc_dir=$TRELLIS_CHANNEL
  # The folder goes when its process has ended and another on this host clears it away.
  if [ ! -d "$_tc_dir" ]; then
    trellis_channel_ended "$_tc_front"
    return 5
  fi
  trellis_channel_id
  _tc_in=0
  if [ "$_tc_front" = megatest ]; then
    for _tc_a in "$@"; do
      if [ "$_tc_a" = -load-test-data ]; then _tc_in=1; fi
    done
  fi
  _tc_data=
  if [ "$_tc_in" = 1 ]; then
    _tc_l=
    while IFS= read -r _tc_l; do
      _tc_data="$_tc_data$_tc_l
"
    done
    # A last line without its line end.
    if [ -n "$_tc_l" ]; then _tc_data="$_tc_data$_tc_l"; fi
  fi
  {
    printf 'trellis-request 1\n%s\n%s\n%s\n%s\n' "$_tc_front" "${#PWD}" "$PWD" "$#"
    for _tc_a in "$@"; do
      printf '%s\n%s\n' "${#_tc_a}" "$_tc_a"
    done
    if [ "$_tc_in" = 1 ]; then
      printf '1\n%s\n%s\n' "${#_tc_data}" "$_tc_data"
    else
      printf '0\n'
    fi
    printf 'end\n'
  } > "$_tc_dir/$_tc_id.req" || {
    echo "$_tc_front: cannot write to $_tc_dir (the test's channel to trellis)" >&2
    return 6
  }
  trellis_channel_wait "$_tc_front" "$_tc_dir" "$_tc_id"
}

# Waits for the answer: quick looks first (a step's call is answered in milliseconds), then slower
# ones; gives up when the job has ended, its follower is gone, or after TRELLIS_CHANNEL_TIMEOUT s.
trellis_channel_wait() {
  _tc_front=$1
  _tc_dir=$2
  _tc_id=$3
  _tc_ack="$_tc_dir/$_tc_id.ack"
  _tc_n=0
  _tc_slow=0
  _tc_limit=${TRELLIS_CHANNEL_TIMEOUT:-600}
  while [ ! -f "$_tc_ack" ]; do
    if [ -f "$_tc_dir/closed" ] && [ ! -f "$_tc_ack" ]; then
      trellis_channel_ended "$_tc_front"
      rm -f "$_tc_dir/$_tc_id.req"
      return 5
    fi
    _tc_n=$((_tc_n + 1))
    if [ "$_tc_n" -le 200 ]; then
      sleep 0.002 2>/dev/null || sleep 1
    else
      sleep 0.1 2>/dev/null || sleep 1
      _tc_slow=$((_tc_slow + 1))
      if [ $((_tc_slow % 10)) = 0 ]; then
        if ! trellis_channel_owner_alive "$_tc_dir"; then
          echo "$_tc_front: the trellis process that runs this test ($_tc_owner) is gone; nothing was recorded" >&2
          return 7
        fi
        if [ $((_tc_slow / 10)) -ge "$_tc_limit" ]; then
          echo "$_tc_front: no answer from trellis ($_tc_owner) within $_tc_limit s; set TRELLIS_CHANNEL_TIMEOUT to wait longer" >&2
          return 7
        fi
      fi
    fi
  done
  read -r _tc_code _tc_out _tc_err < "$_tc_ack"
  if [ "$_tc_out" = 1 ]; then cat "$_tc_dir/$_tc_id.out"; fi
  if [ "$_tc_err" = 1 ]; then cat "$_tc_dir/$_tc_id.err" >&2; fi
  : > "$_tc_dir/$_tc_id.done"
  return "$_tc_code"
}

# True unless the follower is on this host and its process is gone.
trellis_channel_owner_alive() {
  _tc_owner=unknown
  read -r _tc_host _tc_pid < "$1/owner" 2>/dev/null || return 0
  _tc_owner="pid $_tc_pid on $_tc_host"
  read -r _tc_me < /proc/sys/kernel/hostname 2>/dev/null || return 0
  [ "$_tc_me" != "$_tc_host" ] && return 0
  kill -0 "$_tc_pid" 2>/dev/null
}
