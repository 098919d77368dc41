package dev.weft.grpc;

import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * UTF-8 strings on the wire: the marshaller of every test method, benchmark and sample in this
 * module, which use no protobuf.
 */
public final class Utf8Marshaller implements MethodDescriptor.Marshaller<String> {

    /** The one instance. */
    public static final Utf8Marshaller STRING = new Utf8Marshaller();

    private Utf8Marshaller() {
    }

    @Override
    public InputStream stream(String value) {
        return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String parse(InputStream stream) {
        try {
            return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
