package dev.weft.samples.cookbook;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The child process of {@link ChildProcessRecipeTest}: {@code CookbookChild <port> <polite|stubborn>
 * <marker file>}. On SIGTERM a polite child writes "cleaned up" to the marker file and exits; a
 * stubborn one writes "hook started" and then never finishes its shutdown. It connects to the
 * test's port once its hook is in place, then waits forever.
 */
public final class CookbookChild {

    private CookbookChild() {
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        boolean stubborn = args[1].equals("stubborn");
        Path marker = Path.of(args[2]);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            append(marker, stubborn ? "hook started\n" : "cleaned up\n");
            if (stubborn) {
                while (true) {
                    try {
                        Thread.sleep(Long.MAX_VALUE);
                    } catch (InterruptedException ignored) {
                        // stubborn: ignore
                    }
                }
            }
        }));
        try (var ready = new Socket(InetAddress.getLoopbackAddress(), port)) {
            ready.getOutputStream().write(1);            // "my hook is installed"
        }
        Thread.sleep(Long.MAX_VALUE);
    }

    private static void append(Path marker, String text) {
        try {
            Files.writeString(marker, text, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
