package io.peftplatform.artifacts.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.List;
import okhttp3.HttpUrl;
import org.junit.jupiter.api.Test;

/** The address policy of imports, address by address (no network). */
class ImportHttpTest {
  private static String kind(String address) throws Exception {
    return ImportHttp.nonPublicKind(InetAddress.getByName(address));
  }

  @Test
  void everyNonPublicRangeIsNamed() throws Exception {
    assertThat(kind("127.0.0.1")).isEqualTo("a loopback");
    assertThat(kind("127.255.0.9")).isEqualTo("a loopback");
    assertThat(kind("::1")).isEqualTo("a loopback");
    assertThat(kind("0.0.0.0")).isEqualTo("an unspecified");
    assertThat(kind("0.1.2.3")).isEqualTo("an unspecified");
    assertThat(kind("::")).isEqualTo("an unspecified");
    assertThat(kind("10.1.2.3")).isEqualTo("a private");
    assertThat(kind("172.16.0.1")).isEqualTo("a private");
    assertThat(kind("172.31.255.255")).isEqualTo("a private");
    assertThat(kind("192.168.1.1")).isEqualTo("a private");
    assertThat(kind("100.64.0.1")).isEqualTo("a carrier-grade NAT (private)");
    assertThat(kind("169.254.169.254")).isEqualTo("a link-local"); // cloud metadata services
    assertThat(kind("fe80::1")).isEqualTo("a link-local");
    assertThat(kind("fd00::1")).isEqualTo("a unique local (private)");
    assertThat(kind("fc12::1")).isEqualTo("a unique local (private)");
    assertThat(kind("224.0.0.1")).isEqualTo("a multicast");
    assertThat(kind("ff02::1")).isEqualTo("a multicast");
    assertThat(kind("255.255.255.255")).isEqualTo("a reserved");
    assertThat(kind("198.18.0.1")).isEqualTo("a benchmarking (private)");
    // IPv6 forms that carry an IPv4 address are judged by that address.
    assertThat(kind("::ffff:127.0.0.1")).isEqualTo("a loopback");
    assertThat(kind("::ffff:10.0.0.1")).isEqualTo("a private");
    assertThat(kind("64:ff9b::a9fe:a9fe")).isEqualTo("a link-local");
    assertThat(kind("2002:c0a8:0101::1")).isEqualTo("a private");
  }

  @Test
  void publicAddressesPass() throws Exception {
    for (String a : List.of("8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "2002:0808:0808::1")) {
      assertThat(kind(a)).as(a).isNull();
    }
  }

  @Test
  void urlsAreCheckedBeforeAnythingIsFetched() throws Exception {
    ImportHttp http = new ImportHttp("https://huggingface.co", "hf_secret", List.of("mirror.internal"), 5);
    assertThatThrownBy(() -> http.checkUrl(HttpUrl.get("http://example.com/m.tar"))).hasMessageContaining("only https://");
    assertThatThrownBy(() -> http.checkUrl(HttpUrl.get("https://127.0.0.1/m.tar"))).hasMessage("127.0.0.1 is a loopback address, which imports may not reach");
    assertThatThrownBy(() -> http.checkUrl(HttpUrl.get("https://[::1]:8443/m.tar"))).hasMessageContaining("loopback");
    assertThatThrownBy(() -> http.checkUrl(HttpUrl.get("https://169.254.169.254/latest/meta-data/"))).hasMessageContaining("link-local");
    assertThatThrownBy(() -> http.checkUrl(HttpUrl.get("https://[::ffff:7f00:1]/"))).hasMessageContaining("loopback");
    // Names are resolved (and checked) when connecting; an operator's mirror may be private.
    http.checkUrl(HttpUrl.get("https://example.com/m.tar"));
    http.checkUrl(HttpUrl.get("https://mirror.internal/m.tar"));
  }

  @Test
  void namesThatResolveToPrivateAddressesAreRefusedWithTheAddress() throws Exception {
    assertThatThrownBy(() -> ImportHttp.check("internal.example", List.of(InetAddress.getByName("8.8.8.8"), InetAddress.getByName("10.0.0.7"))))
        .hasMessage("internal.example resolves to 10.0.0.7, a private address, which imports may not reach");
    ImportHttp.check("public.example", List.of(InetAddress.getByName("8.8.4.4")));
  }
}
