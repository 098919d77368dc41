package dev.weft;

/**
 * Names as they appear in messages, reports and dumps: user-given names are escaped so that a name
 * cannot break the "one line per straggler, one line per task" layout or forge lines.
 */
final class Names {

    private Names() {
    }

    /**
     * Escapes line breaks, tabs and other control characters as Java escapes ({@code \n},
     * {@code \r}, {@code \t}, {@code \\u0085}, ...), and the backslash itself. Returns {@code s}
     * itself when nothing needs escaping, which is the common case, so it allocates nothing then.
     */
    static String escape(String s) {
        if (s == null) {
            return null;
        }
        int n = s.length();
        int i = 0;
        while (i < n && !needsEscape(s.charAt(i))) {
            i++;
        }
        if (i == n) {
            return s;
        }
        StringBuilder sb = new StringBuilder(n + 8).append(s, 0, i);
        for (; i < n; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (needsEscape(c)) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.toString();
    }

    private static boolean needsEscape(char c) {
        return c < 0x20 || c == 0x7f || c == '\\' || c == 0x85 || c == 0x2028 || c == 0x2029;
    }

    /**
     * A thread's name for messages: its name escaped, or, for an unnamed thread (virtual threads
     * are unnamed by default), {@code <unnamed virtual thread #id>} so that a reader can find it in
     * a thread dump.
     */
    static String thread(Thread t) {
        String name = t.getName();
        if (name.isEmpty()) {
            return "<unnamed " + (t.isVirtual() ? "virtual " : "") + "thread #" + t.threadId() + ">";
        }
        return escape(name);
    }
}
