package dev.weft.jmh;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

/**
 * What a parked child's stack chunk holds: the physical frames (each one a JIT-compiled,
 * interpreted or native frame, with the methods the JIT inlined into it) of the threads that
 * froze their stacks, from a JFR recording's allocation samples of {@code jdk.internal.vm.StackChunk}
 * (the JDK allocates a chunk when a virtual thread parks, so the sample's stack trace is the stack
 * being frozen). A physical frame costs its return address, saved frame pointer and spill slots,
 * so two stacks of the same methods differ in size when the JIT split them into different frames.
 * {@code jmh/frames.sh} records and runs this; see jmh/README.md.
 *
 * <pre>
 *   jmh/run.sh --class dev.weft.jmh.ParkedFrames recording.jfr [how many stack shapes, default 2]
 * </pre>
 */
public final class ParkedFrames {

    private ParkedFrames() {
    }

    /**
     * Prints the most frequent stack shapes, physical frames outermost last, each with the number of
     * samples and the methods inlined into each frame.
     *
     * @param args the recording, then optionally how many shapes to print
     * @throws IOException if the recording cannot be read
     */
    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: ParkedFrames <recording.jfr> [shapes]");
            System.exit(2);
        }
        int shapes = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        Map<List<String>, Integer> counts = new LinkedHashMap<>();
        int samples = 0;
        for (RecordedEvent e : RecordingFile.readAllEvents(Path.of(args[0]))) {
            if (!e.getEventType().getName().equals("jdk.ObjectAllocationSample")
                    || !e.getClass("objectClass").getName().equals("jdk.internal.vm.StackChunk")
                    || e.getStackTrace() == null) {
                continue;
            }
            samples++;
            counts.merge(physicalFrames(e.getStackTrace().getFrames()), 1, Integer::sum);
        }
        System.out.println(samples + " stack-chunk allocation samples, " + counts.size() + " stack shapes");
        counts.entrySet().stream().sorted(Map.Entry.<List<String>, Integer>comparingByValue().reversed()).limit(shapes)
                .forEach(en -> {
                    System.out.println(en.getValue() + " samples, " + en.getKey().size() + " physical frames (top first):");
                    en.getKey().forEach(f -> System.out.println("    " + f));
                });
    }

    /** One line per physical frame: its type and method, then the methods inlined into it, innermost first. */
    private static List<String> physicalFrames(List<RecordedFrame> frames) {
        List<String> out = new ArrayList<>();
        List<String> inlined = new ArrayList<>();
        for (RecordedFrame f : frames) {
            String m = f.getMethod().getType().getName().replaceFirst("^.*\\.", "") + "." + f.getMethod().getName();
            if ("Inlined".equals(f.getType())) {
                inlined.add(m);
            } else {
                out.add(f.getType() + " " + m + (inlined.isEmpty() ? "" : "  (inlined: " + String.join(" < ", inlined) + ")"));
                inlined.clear();
            }
        }
        return out;
    }
}
