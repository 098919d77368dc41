package dev.weft.scoped;

import dev.weft.TaskScope;
import dev.weft.TaskScope.Joiner;
import java.util.List;

/** The Weft code of docs/migration.md, "From the JDK's ScopedValue inheritance" (run by ScopedValuePropagationTest). */
final class ScopedValueMigrationExample {

    private ScopedValueMigrationExample() {
    }

    // tag::from-scopedvalue[]
    static final ScopedValue<String> USER = ScopedValue.newInstance();

    static List<String> audit(String user, List<String> actions) throws Exception {
        return ScopedValue.where(USER, user).call(() -> {
            try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(),
                                            cfg -> cfg.withContext(ScopedValues.propagator(USER)))) {
                for (String action : actions) {
                    scope.fork(() -> USER.get() + " did " + action);     // bound, as in the JDK's scope
                }
                return scope.join();
            }
        });
    }
    // end::from-scopedvalue[]
}
