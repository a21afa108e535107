package org.fhiradapter.refval;

import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The HL7 reference validator (HAPI FHIR's FhirInstanceValidator, which wraps the HL7 InstanceValidator)
 * as a command for fhiradapter's differential tests.
 *
 * <pre>
 * java -jar reference-validator.jar [--package TGZ]... [--ig DIR_OR_TGZ]... [--profile URL]... FILE...
 * java -jar reference-validator.jar [--package TGZ]... [--ig DIR_OR_TGZ]... --batch
 * </pre>
 *
 * File mode prints one JSON line per input (a .json file, or each line of a .ndjson/.jsonl file).
 * Batch mode is the long-lived form the tests use: it prints one "ready" line, then answers each request
 * line on stdin with exactly one JSON line, so JVM start-up and package loading are paid once.
 * See {@link Protocol} for the request format.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws IOException {
    long t0 = System.nanoTime();
    List<String> packages = new ArrayList<>();
    List<String> igs = new ArrayList<>();
    List<String> profiles = new ArrayList<>();
    List<String> files = new ArrayList<>();
    boolean batch = false;
    int threads = Runtime.getRuntime().availableProcessors();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--package" -> packages.add(need(args, ++i, a));
        case "--ig" -> igs.add(need(args, ++i, a));
        case "--profile" -> profiles.add(need(args, ++i, a));
        case "--batch" -> batch = true;
        case "--threads" -> threads = Math.max(1, Integer.parseInt(need(args, ++i, a)));
        case "-h", "--help" -> {
          usage(System.out);
          return;
        }
        default -> {
          if (a.startsWith("--")) {
            System.err.println("unknown option " + a);
            usage(System.err);
            System.exit(2);
          }
          files.add(a);
        }
      }
    }
    if (!batch && files.isEmpty()) {
      usage(System.err);
      System.exit(2);
    }
    // The protocol owns the real stdout. The HL7 core prints some stack traces and notes with
    // System.out/System.err itself: route System.out to stderr so nothing can break the protocol.
    PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
    System.setOut(System.err);
    Engine engine;
    try {
      engine = new Engine(packages, igs);
    } catch (Exception e) {
      System.err.println("cannot load definitions: " + e);
      System.exit(2);
      return;
    }
    engine.warmUp();
    long startupMs = (System.nanoTime() - t0) / 1_000_000;
    if (batch) {
      out.println("{\"ready\":true,\"startup_ms\":" + startupMs + ",\"hapi\":" + Json.str(Engine.hapiVersion()) + "}");
      out.flush();
      Protocol.serve(engine, new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)), out,
          threads);
      return;
    }
    boolean anyError = false;
    for (String f : files) {
      Path p = Path.of(f);
      String text;
      try {
        text = Files.readString(p, StandardCharsets.UTF_8);
      } catch (IOException e) {
        System.err.println(f + ": cannot read: " + e.getMessage());
        System.exit(2);
        return;
      }
      if (f.endsWith(".ndjson") || f.endsWith(".jsonl")) {
        String[] lines = text.split("\n", -1);
        for (int n = 0; n < lines.length; n++) {
          if (lines[n].isBlank()) {
            continue;
          }
          Engine.Result r = engine.validate(lines[n], profiles, List.of());
          anyError |= !r.valid();
          out.println(r.toJsonLine(f + ":" + (n + 1)));
        }
      } else {
        Engine.Result r = engine.validate(text, profiles, List.of());
        anyError |= !r.valid();
        out.println(r.toJsonLine(f));
      }
    }
    out.flush();
    System.exit(anyError ? 1 : 0);
  }

  private static String need(String[] args, int i, String opt) {
    if (i >= args.length) {
      System.err.println(opt + " needs a value");
      System.exit(2);
    }
    return args[i];
  }

  private static void usage(PrintStream s) {
    s.println("usage: reference-validator [--package TGZ]... [--ig DIR_OR_TGZ]... [--profile URL]... FILE...");
    s.println("       reference-validator [--package TGZ]... [--ig DIR_OR_TGZ]... --batch [--threads N]");
    s.println("Validates FHIR R4 JSON resources offline with HAPI FHIR's FhirInstanceValidator (the HL7");
    s.println("InstanceValidator). Prints one JSON line per resource: {\"name\", \"valid\", \"outcome\"}.");
    s.println("--batch reads requests from stdin, one a line (OP<TAB>NAME<TAB>PROFILES<TAB>IGS<TAB>PAYLOAD).");
  }
}
