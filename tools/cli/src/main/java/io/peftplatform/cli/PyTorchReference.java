package io.peftplatform.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Runs tools/reference/bench.py's fastest PyTorch training step ({@code train-fast}) as a separate process
 * and reads back its table row. On a CPU with AVX-512 it runs twice — Debian's OpenBLAS with the kernels it
 * detects, then with {@code OPENBLAS_CORETYPE=SkylakeX} — and keeps the faster: the reference in its
 * fastest setting of the day. Both runs keep OpenBLAS's idle threads from spinning and glibc's malloc from
 * returning freed memory to the system, which made PyTorch's step up to 1.9x faster on this project's VMs.
 */
final class PyTorchReference {
  /** glibc's malloc: large blocks from the heap, not mmap, and freed memory kept (1 GiB, 16 GiB, 256 MiB). */
  static final String MALLOC_KEEPS_MEMORY =
      "glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=17179869184:glibc.malloc.top_pad=268435456";

  private PyTorchReference() {}

  /**
   * One row of the script's table.
   *
   * @param coreType the OPENBLAS_CORETYPE it ran with, or null for OpenBLAS's own choice
   */
  record Row(String markdown, double tokensPerSecond, long peakRssBytes, String coreType) {}

  static boolean available(String python) {
    try {
      Process p = new ProcessBuilder(python, "-c", "import torch").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  static Row trainFast(String python, Path script, String method, String preset, int rank, int batch, int seqLen, int steps, int warmup,
      int threads, boolean bf16) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(python, script.toAbsolutePath().toString(), "train-fast", "--no-header", "--method", method,
        "--preset", preset, "--rank", Integer.toString(rank), "--batch-size", Integer.toString(batch), "--seq-len",
        Integer.toString(seqLen), "--steps", Integer.toString(steps), "--warmup", Integer.toString(warmup), "--threads",
        Integer.toString(threads)));
    if (bf16) {
      cmd.add("--bf16"); // under bf16 autocast
    }
    List<String> coreTypes = new ArrayList<>();
    coreTypes.add(null);
    if (hasAvx512()) {
      coreTypes.add("SkylakeX");
    }
    Row best = null;
    for (String coreType : coreTypes) {
      Row row = run(cmd, coreType, threads);
      if (best == null || row.tokensPerSecond() > best.tokensPerSecond()) {
        best = row;
      }
    }
    return best;
  }

  private static Row run(List<String> cmd, String coreType, int threads) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
    pb.environment().put("OPENBLAS_NUM_THREADS", Integer.toString(threads));
    // Its fastest setting measured on 2026-12-07 (docs/benchmarks.md, Training VI): OpenBLAS's idle threads asleep at
    // once rather than spinning (as ours run), and glibc's malloc keeping freed memory rather than unmapping each
    // step's large tensors and faulting them in again (what jemalloc or tcmalloc would do): 94-109 -> 178 tokens/s.
    pb.environment().put("OPENBLAS_THREAD_TIMEOUT", "4");
    pb.environment().put("GLIBC_TUNABLES", MALLOC_KEEPS_MEMORY);
    if (coreType != null) {
      pb.environment().put("OPENBLAS_CORETYPE", coreType);
    } else {
      pb.environment().remove("OPENBLAS_CORETYPE");
    }
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException("the PyTorch reference failed (exit " + p.exitValue() + "): " + lastLine(out));
    }
    return parse(lastLine(out), coreType);
  }

  /** Reads "| train (PyTorch …) | method | trainable | preset | batch | seq | threads | s/step | tokens/s | 1234.5 MB |". */
  static Row parse(String line, String coreType) {
    String[] cells = line.split("\\|");
    if (cells.length < 11 || !cells[1].contains("PyTorch")) {
      throw new IllegalStateException("the PyTorch reference printed no table row: " + line);
    }
    double tokensPerSecond = Double.parseDouble(cells[9].trim());
    String rss = cells[10].trim();
    if (!rss.endsWith(" MB")) {
      throw new IllegalStateException("the PyTorch reference's peak RSS is not in MB: " + line);
    }
    long bytes = (long) (Double.parseDouble(rss.substring(0, rss.length() - 3)) * 1024 * 1024); // ru_maxrss KiB / 1024
    String markdown = coreType == null ? line : line.replaceFirst("\\| train \\(PyTorch ([^)]*)\\)",
        "| train (PyTorch $1, OPENBLAS_CORETYPE=" + coreType + ")");
    return new Row(markdown, tokensPerSecond, bytes, coreType);
  }

  private static String lastLine(String out) {
    String[] lines = out.strip().split("\n");
    return lines[lines.length - 1];
  }

  private static boolean hasAvx512() {
    try {
      return Files.readString(Path.of("/proc/cpuinfo")).toLowerCase(Locale.ROOT).contains(" avx512f");
    } catch (IOException e) {
      return false;
    }
  }
}
