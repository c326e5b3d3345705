package io.peftplatform.merging.mergekit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The selection behind TIES and breadcrumbs against its definition: ranks by (fp32 magnitude, position). */
class TensorMergeTest {

  @Test
  void rankWindowsEqualSortingByMagnitudeThenPosition() {
    Random random = new Random(7);
    for (int trial = 0; trial < 300; trial++) {
      int n = 1 + random.nextInt(trial < 200 ? 40 : 5000);
      int levels = 1 + random.nextInt(6); // few distinct magnitudes: many ties, zeros and signs
      double[] values = new double[n];
      for (int i = 0; i < n; i++) {
        values[i] = trial % 3 == 0 ? random.nextGaussian() : (random.nextInt(levels) - levels / 2) * 0.25;
      }
      int lo = random.nextInt(n + 1);
      int hi = lo + random.nextInt(n - lo + 1);
      boolean[] got = new boolean[n];
      TensorMerge.keepRanks(values, 0, n, lo, hi, got);
      Integer[] order = IntStream.range(0, n).boxed().toArray(Integer[]::new);
      Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> Math.abs((float) values[i])).thenComparingInt(i -> i));
      boolean[] want = new boolean[n];
      for (int r = lo; r < hi; r++) {
        want[order[r]] = true;
      }
      assertThat(got).as("n=%d, [%d, %d)", n, lo, hi).isEqualTo(want);
    }
  }

  @Test
  void selectFindsTheKthSmallest() {
    Random random = new Random(3);
    for (int trial = 0; trial < 200; trial++) {
      int n = 1 + random.nextInt(1000);
      float[] a = new float[n];
      for (int i = 0; i < n; i++) {
        a[i] = trial % 2 == 0 ? random.nextInt(1 + trial % 20) : Math.abs((float) random.nextGaussian()) * (trial % 7 == 0 ? 1e-30f : 1f);
      }
      float[] sorted = a.clone();
      Arrays.sort(sorted);
      int k = random.nextInt(n);
      assertThat(TensorMerge.select(a.clone(), k)).isEqualTo(sorted[k]);
    }
  }

  @Test
  void rowRanksEqualSortingByMagnitudeThenPosition() {
    Random random = new Random(11);
    for (int trial = 0; trial < 200; trial++) {
      int n = 1 + random.nextInt(trial < 100 ? 30 : 3000);
      double[] values = new double[n + 5];
      for (int i = 0; i < values.length; i++) {
        values[i] = trial % 2 == 0 ? random.nextGaussian() * Math.pow(10, random.nextInt(20) - 10) : (random.nextInt(5) - 2) * 0.5;
      }
      int[] got = new int[n];
      TensorMerge.ranks(values, 5, n, got, new TensorMerge.RankScratch(n));
      Integer[] order = IntStream.range(0, n).boxed().toArray(Integer[]::new);
      Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> Math.abs((float) values[5 + i])).thenComparingInt(i -> i));
      int[] want = new int[n];
      for (int r = 0; r < n; r++) {
        want[order[r]] = r;
      }
      assertThat(got).as("n=%d", n).isEqualTo(want);
    }
  }

  @Test
  void parallelChunksCoverEveryEntryOnce() {
    for (int n : new int[] {1, 65_536, 65_537, 300_001}) {
      int[] visits = new int[n];
      TensorMerge.inParallel(n, (from, to) -> {
        for (int e = from; e < to; e++) {
          visits[e]++;
        }
      });
      assertThat(Arrays.stream(visits).allMatch(v -> v == 1)).as("n=%d", n).isTrue();
    }
  }
}
