/**
 * Weft scopes across processes on gRPC-Java: a call made in a subtask carries the subtask's
 * deadline and is cancelled with it, and each server call's handler runs in a scope that the
 * client's cancellation, the deadline or a lost connection cancels. Start at
 * {@link dev.weft.grpc.WeftGrpc}.
 */
package dev.weft.grpc;
