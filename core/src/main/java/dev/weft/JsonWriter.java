package dev.weft;

/**
 * A minimal streaming JSON writer for {@link Scopes#dumpJson()}: objects, arrays, strings,
 * integers, booleans and null, pretty-printed with two-space indentation. It keeps the commas
 * right; the caller keeps the nesting right (an unbalanced call sequence is a bug in Weft).
 *
 * <p>Strings are escaped per RFC 8259: {@code "} and {@code \}, every control character
 * (U+0000 to U+001F, as {@code \n}, {@code \t}, ... or {@code \}{@code u00XX}), and also U+007F,
 * U+2028 and U+2029 (valid JSON, but they break line-oriented tools and JavaScript). An unpaired
 * surrogate, which no Unicode encoding can represent, is written as a {@code \}{@code uXXXX}
 * escape, so the output is always encodable as UTF-8 and a decoder gets the same {@code char}s
 * back. Properly paired surrogates are copied as they are.
 */
final class JsonWriter {

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private final StringBuilder sb;
    private int depth;
    /** Whether the current container has no element yet. */
    private boolean first = true;
    /** Whether a name was just written, so the next value follows it on the same line. */
    private boolean afterName;

    JsonWriter(StringBuilder sb) {
        this.sb = sb;
    }

    JsonWriter beginObject() {
        beforeValue();
        sb.append('{');
        depth++;
        first = true;
        return this;
    }

    JsonWriter endObject() {
        return end('}');
    }

    JsonWriter beginArray() {
        beforeValue();
        sb.append('[');
        depth++;
        first = true;
        return this;
    }

    JsonWriter endArray() {
        return end(']');
    }

    private JsonWriter end(char c) {
        depth--;
        if (!first) {
            newline();
        }
        sb.append(c);
        first = false;
        return this;
    }

    /** Writes a member name; the next call writes its value. */
    JsonWriter name(String name) {
        beforeValue();
        quote(sb, name);
        sb.append(": ");
        afterName = true;
        return this;
    }

    JsonWriter value(String s) {
        beforeValue();
        if (s == null) {
            sb.append("null");
        } else {
            quote(sb, s);
        }
        return this;
    }

    JsonWriter value(long n) {
        beforeValue();
        sb.append(n);
        return this;
    }

    JsonWriter value(boolean b) {
        beforeValue();
        sb.append(b);
        return this;
    }

    JsonWriter nullValue() {
        beforeValue();
        sb.append("null");
        return this;
    }

    JsonWriter field(String name, String value) {
        return name(name).value(value);
    }

    JsonWriter field(String name, long value) {
        return name(name).value(value);
    }

    JsonWriter field(String name, boolean value) {
        return name(name).value(value);
    }

    /** A number member, or {@code null} when {@code value} is null. */
    JsonWriter field(String name, Long value) {
        name(name);
        return value == null ? nullValue() : value(value.longValue());
    }

    private void beforeValue() {
        if (afterName) {
            afterName = false;
            return;
        }
        if (!first) {
            sb.append(',');
        }
        if (depth > 0) {
            newline();
        }
        first = false;
    }

    private void newline() {
        sb.append('\n');
        for (int i = 0; i < depth; i++) {
            sb.append("  ");
        }
    }

    /** Appends {@code s} as a JSON string literal, quotes included. */
    static void quote(StringBuilder sb, CharSequence s) {
        sb.append('"');
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029') {
                        unicodeEscape(sb, c);
                    } else if (Character.isHighSurrogate(c)) {
                        if (i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                            sb.append(c).append(s.charAt(++i));
                        } else {
                            unicodeEscape(sb, c);           // unpaired high surrogate
                        }
                    } else if (Character.isLowSurrogate(c)) {
                        unicodeEscape(sb, c);               // unpaired low surrogate
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    private static void unicodeEscape(StringBuilder sb, char c) {
        sb.append("\\u").append(HEX[c >> 12 & 0xf]).append(HEX[c >> 8 & 0xf]).append(HEX[c >> 4 & 0xf]).append(HEX[c & 0xf]);
    }
}
