/**
 * Weft: structured concurrency for Java 21+ with bounded, observable shutdown.
 * See {@link dev.weft.TaskScope}.
 */
module dev.weft {
    exports dev.weft;
}
