/**
 * Weft: structured concurrency for Java 21+ with bounded, observable shutdown.
 * See {@link dev.weft.TaskScope}.
 *
 * <p>Both JDK modules below are optional ({@code requires static}): Weft runs on a runtime image
 * without them, and then emits no JFR events and registers no MBean. {@code jdk.jfr} carries the
 * {@code dev.weft.*} Flight Recorder events; it is resolved whenever JFR can record at all.
 * {@code java.management} carries the opt-in {@code dev.weft:type=Scopes} MBean
 * ({@code -Ddev.weft.jmx=true}); a modular application that does not otherwise resolve it needs
 * {@code --add-modules java.management}.
 */
module dev.weft {
    requires static jdk.jfr;
    requires static java.management;

    exports dev.weft;
}
