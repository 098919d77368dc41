package dev.weft.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The code the docs show is the code that compiles and runs. A fenced {@code java} block preceded
 * by {@code <!-- snippet: PATH#TAG -->} must be identical (after removing the common indentation)
 * to the lines between {@code // tag::TAG[]} and {@code // end::TAG[]} in the file at {@code PATH},
 * relative to the repository root.
 */
class ReadmeSnippetTest {

    /** The repository root; the build passes it, and a run from {@code samples/} finds it as its parent. */
    private static final Path ROOT = Path.of(System.getProperty("weft.root", "..")).toAbsolutePath().normalize();

    private static final List<String> DOCS = List.of("README.md", "docs/migration.md", "docs/cookbook.md", "grpc/README.md");

    private static final Pattern SNIPPET = Pattern.compile(
            "<!-- snippet: (\\S+)#(\\S+) -->\\R```java\\R(.*?)\\R```", Pattern.DOTALL);

    /** A block in a doc that claims to show a region of a source file. */
    record Snippet(String doc, String source, String tag, String code) {
    }

    static List<Snippet> snippets(String doc) throws IOException {
        String text = Files.readString(ROOT.resolve(doc));
        List<Snippet> found = new ArrayList<>();
        Matcher m = SNIPPET.matcher(text);
        while (m.find()) {
            found.add(new Snippet(doc, m.group(1), m.group(2), m.group(3)));
        }
        return found;
    }

    /**
     * The lines between {@code // tag::TAG[]} and {@code // end::TAG[]}, without their common
     * indentation and trailing spaces.
     *
     * @throws IllegalArgumentException if the file has no such region
     */
    static String region(String source, String tag) {
        List<String> lines = source.lines().toList();
        int start = -1;
        int end = -1;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).trim();
            if (line.equals("// tag::" + tag + "[]")) {
                start = i + 1;
            } else if (line.equals("// end::" + tag + "[]") && start >= 0) {
                end = i;
                break;
            }
        }
        if (start < 0 || end < 0) {
            throw new IllegalArgumentException("no region '" + tag + "' (// tag::" + tag + "[] ... // end::" + tag + "[])");
        }
        List<String> body = lines.subList(start, end);
        int indent = body.stream().filter(l -> !l.isBlank())
                .mapToInt(l -> l.length() - l.stripLeading().length()).min().orElse(0);
        return String.join("\n", body.stream().map(l -> l.isBlank() ? "" : l.substring(indent).stripTrailing()).toList());
    }

    private static String normalise(String code) {
        return String.join("\n", code.lines().map(String::stripTrailing).toList());
    }

    @TestFactory
    Stream<DynamicTest> snippets_inTheDocs_areIdenticalToTheCompiledSources() throws IOException {
        List<Snippet> all = new ArrayList<>();
        for (String doc : DOCS) {
            all.addAll(snippets(doc));
        }
        return all.stream().map(s -> DynamicTest.dynamicTest(s.doc() + ": " + s.source() + "#" + s.tag(), () -> {
            String source = Files.readString(ROOT.resolve(s.source()));
            assertThat(normalise(s.code()))
                    .as("the block in %s must be the region '%s' of %s; copy it again from the source", s.doc(), s.tag(), s.source())
                    .isEqualTo(region(source, s.tag()));
        }));
    }

    @Test
    void readme_quickStart_isTheCompiledFanOutSample() throws IOException {
        String readme = Files.readString(ROOT.resolve("README.md"));
        String quickStart = readme.substring(readme.indexOf("## Quick start"));

        assertThat(snippets("README.md")).extracting(Snippet::tag)
                .contains("quickstart", "bounded-shutdown", "handler");
        assertThat(quickStart).as("the first code of the quick start is the sample's")
                .startsWith("## Quick start")
                .contains("<!-- snippet: samples/src/main/java/dev/weft/samples/Sample01_FanOut.java#quickstart -->");
        assertThat(quickStart.indexOf("#quickstart -->")).isLessThan(quickStart.indexOf("```java"));
    }

    @Test
    void migrationGuide_snippets_coverEveryPath() throws IOException {
        assertThat(snippets("docs/migration.md")).extracting(Snippet::tag)
                .contains("from-flag", "from-executor", "from-sts", "from-sts-timeout",
                        "from-inheritable", "from-scopedvalue", "from-mdccontext", "from-taskwrapping");
    }

    @Test
    void cookbook_snippets_coverEveryRecipe() throws IOException {
        assertThat(snippets("docs/cookbook.md")).extracting(Snippet::tag)
                .containsExactly("http", "jdbc", "process", "socket");
    }

    @Test
    void region_taggedLines_areExtractedWithoutCommonIndentation() {
        String source = """
                class A {
                    // tag::x[]
                    void f() {
                        g();   \s
                    }
                    // end::x[]
                }
                """;

        assertThat(region(source, "x")).isEqualTo("void f() {\n    g();\n}");
    }

    @Test
    void region_unknownTag_throws() {
        assertThatThrownBy(() -> region("// tag::x[]\n// end::x[]\n", "y"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no region 'y'");
    }
}
