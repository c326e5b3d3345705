package io.peftplatform.service.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * What every service's metrics share: the {@code application} tag (jobs, artifacts, training, merging) on
 * every series, so one dashboard tells the services apart; HTTP latencies as histograms; and, in a service that loads JavaCPP (ND4J's
 * native memory: the training and merging workers), {@code peft_native_memory_bytes} — {@code kind=total}
 * the bytes JavaCPP has allocated off the heap, {@code kind=physical} the process's resident memory as
 * JavaCPP measures it (what its {@code maxphysicalbytes} limit is checked against).
 */
@ApplicationScoped
public class ServiceMetrics {
  static final String JAVACPP_POINTER = "org.bytedeco.javacpp.Pointer";

  @ConfigProperty(name = "quarkus.application.name")
  String application;

  @Produces
  @Singleton
  MeterFilter applicationTag() {
    return MeterFilter.commonTags(Tags.of("application", application));
  }

  /** HTTP server latencies as histograms ({@code http_server_requests_seconds_bucket}), for p95s across replicas. */
  @Produces
  @Singleton
  MeterFilter httpHistograms() {
    return new MeterFilter() {
      @Override
      public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
        if (id.getName().equals("http.server.requests")) {
          return DistributionStatisticConfig.builder().percentilesHistogram(true).minimumExpectedValue(1e6) // 1 ms
              .maximumExpectedValue(60e9).build().merge(config); // 60 s
        }
        return config;
      }
    };
  }

  void nativeMemory(@Observes StartupEvent start, MeterRegistry registry) {
    MethodHandle total = javacppCounter("totalBytes");
    MethodHandle physical = javacppCounter("physicalBytes");
    if (total == null || physical == null) {
      return; // this service does not load JavaCPP
    }
    Gauge.builder("peft.native.memory", () -> invoke(total)).tag("kind", "total").baseUnit("bytes")
        .description("Off-heap bytes JavaCPP has allocated (ND4J's arrays)").register(registry);
    Gauge.builder("peft.native.memory", () -> invoke(physical)).tag("kind", "physical").baseUnit("bytes")
        .description("The process's resident memory as JavaCPP measures it").register(registry);
  }

  /** JavaCPP's static {@code long Pointer.name()}, or null when JavaCPP is not on the class path. */
  private static MethodHandle javacppCounter(String name) {
    try {
      Class<?> pointer = Class.forName(JAVACPP_POINTER, false, Thread.currentThread().getContextClassLoader());
      return MethodHandles.publicLookup().findStatic(pointer, name, MethodType.methodType(long.class));
    } catch (ReflectiveOperationException | LinkageError e) {
      return null;
    }
  }

  private static double invoke(MethodHandle counter) {
    try {
      return (long) counter.invoke();
    } catch (Throwable t) {
      return Double.NaN;
    }
  }
}
