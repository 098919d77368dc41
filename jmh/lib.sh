# Sourced by compare.sh and interleave.sh: one measuring JMH run whose JSON is kept for the table.
#
#   jmh_run <who> <json> <log> <JMH arguments...>
#
# Runs jmh/run.sh with -foe true and JSON output to <json>, JMH's console output to <log>; if the
# run fails, prints the end of the log and "<who> failed (log: <log>)", and exits.
jmh_run() {
  local who="$1" json="$2" log="$3"; shift 3
  "$(dirname "${BASH_SOURCE[0]}")/run.sh" "$@" -foe true -rf json -rff "$json" > "$log" 2>&1 || {
    tail -n 40 "$log" >&2
    echo "$who failed (log: $log)" >&2
    exit 1
  }
}
