package dev.sift.trainer.cli;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** One {@code sift-trainer} command run in this JVM: its exit code and what it printed. */
record TrainerRun(int exit, String out, String err) {

    /** Runs {@code args}, with {@code stdin} (a line, or null for none) as standard input. */
    static TrainerRun of(List<String> args, String stdin) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        InputStream in = System.in;
        ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
        ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(outBytes, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(errBytes, true, StandardCharsets.UTF_8));
            if (stdin != null) {
                System.setIn(
                        new ByteArrayInputStream((stdin + "\n").getBytes(StandardCharsets.UTF_8)));
            }
            int exit = SiftTrainer.run(args.toArray(String[]::new));
            return new TrainerRun(
                    exit,
                    outBytes.toString(StandardCharsets.UTF_8),
                    errBytes.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
            System.setIn(in);
        }
    }
}
