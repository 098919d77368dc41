import java.util.List;
import javax.tools.ToolProvider;

/**
 * Build step of the jmh module (execution {@code compile-jdk-sts} in jmh/pom.xml), run as a
 * single-file program by the JDK that the build's toolchain selection found.
 *
 * <p>{@code JdkSts.java} uses the JDK's preview {@code StructuredTaskScope}, so only javac of
 * exactly that feature release can compile it ({@code --release N --enable-preview}). If the build
 * runs on that release, this compiles it into the module's classes; on any other JDK it leaves the
 * JDK_STS peer out and prints one line saying why and how to include it, and the build goes on.
 *
 * <p>Arguments: mode ({@code auto}, or {@code off} for -Pno-jdk-sts), preview release, source
 * file, output directory, class path.
 */
public final class CompileJdkSts {
    public static void main(String[] args) {
        if (args.length != 5) {
            throw new IllegalArgumentException("usage: CompileJdkSts auto|off RELEASE SOURCE OUTDIR CLASSPATH");
        }
        String mode = args[0];
        int release = Integer.parseInt(args[1]);
        String source = args[2], out = args[3], classPath = args[4];
        int running = Runtime.version().feature();
        if (mode.equals("off")) {
            System.out.println("[INFO] weft-jmh: the JDK_STS peer is left out (-Pno-jdk-sts); build without"
                    + " that profile, with a JDK " + release + " installed, to include it.");
            return;
        }
        if (running != release) {
            System.out.println("[WARNING] weft-jmh: the JDK_STS peer is left out: it compiles against JDK "
                    + release + "'s preview StructuredTaskScope, and the build found JDK " + Runtime.version()
                    + " (" + System.getProperty("java.home") + "); to include it, install a JDK " + release
                    + " where Maven discovers JDKs, or pass -Dweft.jmh.jdk=[" + release + "," + (release + 1)
                    + ") to choose it among several.");
            return;
        }
        var javac = ToolProvider.getSystemJavaCompiler();
        if (javac == null) {
            throw new IllegalStateException(System.getProperty("java.home") + " is a JRE without javac; "
                    + "the build needs a full JDK " + release);
        }
        List<String> options = List.of("--release", String.valueOf(release), "--enable-preview",
                "-proc:none", "-implicit:none", "-Xlint:all", "-Xlint:-preview",
                "-encoding", "UTF-8", "-d", out, "-cp", classPath, source);
        int rc = javac.run(null, null, null, options.toArray(String[]::new));
        if (rc != 0) {
            System.err.println("weft-jmh: compiling " + source + " with JDK " + Runtime.version() + " failed"
                    + " (exit " + rc + "); build with -Pno-jdk-sts to leave the JDK_STS peer out");
            System.exit(rc);
        }
        System.out.println("[INFO] weft-jmh: JDK_STS peer compiled with JDK " + Runtime.version()
                + " (--release " + release + " --enable-preview)");
    }
}
