package dev.weft;

import java.lang.management.ManagementFactory;

import javax.management.InstanceAlreadyExistsException;
import javax.management.InstanceNotFoundException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Registers the {@code dev.weft:type=Scopes} MBean ({@link ScopesMBean}) in the platform MBean
 * server, so that the scope tree can be dumped, and every scope cancelled, from outside the process
 * (jconsole, JDK Mission Control, VisualVM, any JMX client) with no code change.
 *
 * <p>Opt-in with {@code -Ddev.weft.jmx=true}. The property is read once, when the registry class is
 * initialised, that is when the first scope opens; without it nothing else happens: this class
 * is loaded but refers to {@code javax.management} only in methods that do not run, so
 * {@code java.management} is not touched. The module only {@code requires static java.management}:
 * when the property is set but the module is missing or unreadable (a {@code jlink} image without
 * it, or a modular application that does not resolve it: add {@code --add-modules java.management}),
 * Weft logs a warning instead of failing.
 */
final class Jmx {

    private Jmx() {
    }

    /** The system property that turns registration on. */
    static final String PROPERTY = "dev.weft.jmx";

    /** The MBean's object name. */
    static final String OBJECT_NAME = "dev.weft:type=Scopes";

    /** Registers the MBean if {@code -Ddev.weft.jmx=true}. Never throws. */
    static void registerIfRequested() {
        String p;
        try {
            p = System.getProperty(PROPERTY);
        } catch (RuntimeException e) {
            return;
        }
        if (p != null && Boolean.parseBoolean(p.trim())) {
            register();
        }
    }

    /**
     * Registers the MBean in the platform MBean server unless it is there already. Never throws; a
     * failure is reported through {@code System.Logger} {@code "dev.weft"}.
     *
     * @return whether the MBean is registered after this call
     */
    static boolean register() {
        if (!managementUsable()) {
            Reports.report(System.Logger.Level.WARNING, "internal", "-D" + PROPERTY
                    + "=true, but the module java.management is not available to Weft; add --add-modules java.management"
                    + " (or use a runtime image that contains it) to dump scopes over JMX", null);
            return false;
        }
        try {
            return Platform.register();
        } catch (RuntimeException | LinkageError e) {
            Reports.report(System.Logger.Level.WARNING, "internal", "Weft could not register the MBean " + OBJECT_NAME + ": " + e, e);
            return false;
        }
    }

    /** Unregisters the MBean, if registered. For tests; never throws. */
    static void unregister() {
        if (!managementUsable()) {
            return;
        }
        try {
            Platform.unregister();
        } catch (RuntimeException | LinkageError e) {
            // nothing to undo
        }
    }

    private static boolean managementUsable() {
        try {
            Module m = ModuleLayer.boot().findModule("java.management").orElse(null);
            return m != null && Jmx.class.getModule().canRead(m);
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Every reference to {@code javax.management}; loaded only when registering. */
    private static final class Platform {

        static boolean register() {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            ObjectName name = name();
            if (server.isRegistered(name)) {
                return true;
            }
            try {
                server.registerMBean(new ScopesMBean(), name);
            } catch (InstanceAlreadyExistsException e) {
                return true;      // a racing registration, or another copy of Weft in this JVM
            } catch (javax.management.JMException e) {
                throw new IllegalStateException(e);
            }
            return true;
        }

        static void unregister() {
            try {
                ManagementFactory.getPlatformMBeanServer().unregisterMBean(name());
            } catch (InstanceNotFoundException e) {
                // not registered
            } catch (javax.management.JMException e) {
                throw new IllegalStateException(e);
            }
        }

        private static ObjectName name() {
            try {
                return new ObjectName(OBJECT_NAME);
            } catch (javax.management.MalformedObjectNameException e) {
                throw new AssertionError(e);
            }
        }
    }
}
