#!/usr/bin/env bash
# Cancel latency across gRPC, Weft-bridged vs plain gRPC Context cancellation (grpc/README.md).
#   grpc/bench.sh [cancels=1000] [subtasks=4] [warm-up=300]
set -euo pipefail
exec "$(cd "$(dirname "$0")" && pwd)/run.sh" dev.weft.grpc.bench.CancelLatencyBench "$@"
