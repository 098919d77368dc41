package dev.weft;

import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.AttributeNotFoundException;
import javax.management.DynamicMBean;
import javax.management.ImmutableDescriptor;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanConstructorInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanNotificationInfo;
import javax.management.MBeanOperationInfo;
import javax.management.MBeanParameterInfo;
import javax.management.ReflectionException;

/**
 * The {@code dev.weft:type=Scopes} MBean, registered by {@link Jmx}. It is a {@link DynamicMBean}
 * so that Weft's public API gains no management interface, and so that the JMX introspector needs
 * no reflective access to this package-private class in a named module.
 *
 * <p>Attributes (read-only): {@code RootScopes}, {@code LingeringScopes}, {@code RunningSubtasks}.
 * Operations: {@code dump()}, {@code dump(int maxFrames)}, {@code dumpJson()},
 * {@code dumpJson(int maxFrames)} (all INFO), and {@code cancelAll()} (ACTION).
 */
final class ScopesMBean implements DynamicMBean {

    private static final String STRING = String.class.getName();
    private static final String INT = int.class.getName();

    private static final MBeanParameterInfo[] NONE = new MBeanParameterInfo[0];
    private static final MBeanParameterInfo[] FRAMES = {
            new MBeanParameterInfo("maxFrames", INT, "Stack frames per subtask; 0 for none")
    };

    private static final MBeanInfo INFO = new MBeanInfo(
            ScopesMBean.class.getName(),
            "Weft structured concurrency: the live scope tree of this JVM, and a way to cancel every scope",
            new MBeanAttributeInfo[] {
                    new MBeanAttributeInfo("RootScopes", INT, "Open root scopes", true, false, false),
                    new MBeanAttributeInfo("LingeringScopes", INT,
                            "Scopes closed or leaked while subtasks still run (their subtasks are stragglers)", true, false, false),
                    new MBeanAttributeInfo("RunningSubtasks", INT,
                            "Subtasks running in open and lingering scopes, nested scopes included", true, false, false),
            },
            new MBeanConstructorInfo[0],
            new MBeanOperationInfo[] {
                    new MBeanOperationInfo("dump", "The live scope tree as text, with "
                            + Scopes.DEFAULT_DUMP_FRAMES + " stack frames per subtask (Scopes.dump())",
                            NONE, STRING, MBeanOperationInfo.INFO),
                    new MBeanOperationInfo("dump", "The live scope tree as text (Scopes.dump(int))",
                            FRAMES, STRING, MBeanOperationInfo.INFO),
                    new MBeanOperationInfo("dumpJson", "The live scope tree as JSON, with "
                            + Scopes.DEFAULT_DUMP_FRAMES + " stack frames per subtask (Scopes.dumpJson())",
                            NONE, STRING, MBeanOperationInfo.INFO),
                    new MBeanOperationInfo("dumpJson", "The live scope tree as JSON (Scopes.dumpJson(int))",
                            FRAMES, STRING, MBeanOperationInfo.INFO),
                    new MBeanOperationInfo("cancelAll", "Cancels every open root scope and the scopes below it"
                            + " (Scopes.cancelAll()); returns how many root scopes this call cancelled",
                            NONE, INT, MBeanOperationInfo.ACTION),
            },
            new MBeanNotificationInfo[0],
            new ImmutableDescriptor("immutableInfo=true"));

    @Override
    public Object getAttribute(String attribute) throws AttributeNotFoundException {
        return switch (attribute) {
            case "RootScopes" -> Registry.roots().size();
            case "LingeringScopes" -> Registry.lingering().size();
            case "RunningSubtasks" -> Dumps.snapshot(0).running();
            default -> throw new AttributeNotFoundException("no attribute '" + attribute + "' in " + Jmx.OBJECT_NAME);
        };
    }

    @Override
    public void setAttribute(Attribute attribute) throws AttributeNotFoundException {
        throw new AttributeNotFoundException("the attributes of " + Jmx.OBJECT_NAME + " are read-only");
    }

    @Override
    public AttributeList getAttributes(String[] attributes) {
        AttributeList list = new AttributeList();
        for (String a : attributes) {
            try {
                list.add(new Attribute(a, getAttribute(a)));
            } catch (AttributeNotFoundException e) {
                // the JMX contract: unknown attributes are left out of the list
            }
        }
        return list;
    }

    @Override
    public AttributeList setAttributes(AttributeList attributes) {
        return new AttributeList();
    }

    @Override
    public Object invoke(String actionName, Object[] params, String[] signature) throws ReflectionException {
        int n = params == null ? 0 : params.length;
        switch (actionName) {
            case "dump" -> {
                return n == 0 ? Scopes.dump() : Scopes.dump(frames(actionName, params));
            }
            case "dumpJson" -> {
                return n == 0 ? Scopes.dumpJson() : Scopes.dumpJson(frames(actionName, params));
            }
            case "cancelAll" -> {
                if (n == 0) {
                    return Scopes.cancelAll();
                }
            }
            default -> {
            }
        }
        throw new ReflectionException(new NoSuchMethodException(actionName + " with " + n + " parameters"),
                "no operation " + actionName + " with " + n + " parameters in " + Jmx.OBJECT_NAME);
    }

    private static int frames(String op, Object[] params) throws ReflectionException {
        if (params.length == 1 && params[0] instanceof Integer i) {
            if (i < 0) {
                throw new IllegalArgumentException("maxFrames must not be negative: " + i);
            }
            return i;
        }
        throw new ReflectionException(new NoSuchMethodException(op),
                "no operation " + op + " with these parameters in " + Jmx.OBJECT_NAME + "; expected (int maxFrames)");
    }

    @Override
    public MBeanInfo getMBeanInfo() {
        return INFO;
    }
}
