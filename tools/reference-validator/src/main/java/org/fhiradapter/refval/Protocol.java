package org.fhiradapter.refval;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Batch mode: one request a line on stdin, one JSON answer a line on stdout, in order.
 *
 * <pre>
 * OP &lt;TAB&gt; NAME &lt;TAB&gt; PROFILES &lt;TAB&gt; IGS &lt;TAB&gt; PAYLOAD
 * </pre>
 * OP is {@code validate} or {@code snapshot}; NAME is echoed back; PROFILES and IGS are comma-separated
 * (may be empty; IGS are extra definition folders or packages for this request); PAYLOAD is the resource
 * as one line of JSON, or {@code @} followed by a file path. A malformed request gets an answer with
 * an {@code error} field, never a crash, so the caller's line count stays in step.
 */
final class Protocol {
  /** Per-request CPU time: wall time on a shared machine says little about the validator's speed. */
  private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();

  private Protocol() {}

  /**
   * Requests are validated on {@code threads} workers (HAPI's FhirInstanceValidator is thread-safe) and
   * answered strictly in request order: a reader thread queues one future per line, this thread prints them.
   */
  static void serve(Engine engine, BufferedReader in, PrintStream out, int threads) throws IOException {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    BlockingQueue<Future<String>> pending = new LinkedBlockingQueue<>(threads * 64);
    Future<String> end = CompletableFuture.completedFuture(null);
    Thread reader = new Thread(() -> {
      try {
        String line;
        while ((line = in.readLine()) != null) {
          if (line.isBlank()) {
            continue;
          }
          String request = line;
          pending.put(pool.submit(() -> answer(engine, request)));
        }
      } catch (IOException | InterruptedException e) {
        // stdin closed or interrupted: finish what is queued
      } finally {
        try {
          pending.put(end);
        } catch (InterruptedException ignored) {
          Thread.currentThread().interrupt();
        }
      }
    }, "requests");
    reader.setDaemon(true);
    reader.start();
    try {
      while (true) {
        Future<String> f = pending.take();
        if (f == end) {
          break;
        }
        String answer;
        try {
          answer = f.get();
        } catch (ExecutionException e) {
          answer = "{\"name\":null,\"error\":" + Json.str(String.valueOf(e.getCause())) + "}";
        }
        out.println(answer);
        if (pending.isEmpty()) {
          out.flush();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      out.flush();
      pool.shutdownNow();
    }
  }

  private static String answer(Engine engine, String line) {
    String[] f = line.split("\t", 5);
    if (f.length != 5) {
      return "{\"name\":null,\"error\":\"a request has 5 tab-separated fields\"}";
    }
    String name = f[1];
    String payload = f[4];
    if (payload.startsWith("@")) {
      try {
        payload = Files.readString(Path.of(payload.substring(1)), StandardCharsets.UTF_8);
      } catch (IOException e) {
        return "{\"name\":" + Json.str(name) + ",\"error\":" + Json.str("cannot read " + payload.substring(1)) + "}";
      }
    }
    List<String> profiles = split(f[2]);
    List<String> igs = split(f[3]);
    long t0 = System.nanoTime();
    long c0 = CPU.getCurrentThreadCpuTime();
    return switch (f[0]) {
      case "validate" -> {
        Engine.Result r = engine.validate(payload, profiles, igs);
        long us = (System.nanoTime() - t0) / 1000;
        long cpu = (CPU.getCurrentThreadCpuTime() - c0) / 1000;
        yield "{\"name\":" + Json.str(name) + ",\"valid\":" + r.valid() + ",\"micros\":" + us
            + ",\"cpu_micros\":" + cpu
            + ",\"outcome\":" + Json.outcome(r) + "}";
      }
      case "snapshot" -> "{\"name\":" + Json.str(name) + ",\"result\":" + engine.snapshot(payload, igs) + "}";
      default -> "{\"name\":" + Json.str(name) + ",\"error\":\"unknown op\"}";
    };
  }

  private static List<String> split(String s) {
    return s.isEmpty() ? List.of() : Arrays.asList(s.split(","));
  }
}
