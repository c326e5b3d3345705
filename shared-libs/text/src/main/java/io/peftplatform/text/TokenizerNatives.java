package io.peftplatform.text;

import ai.djl.huggingface.tokenizers.jni.LibUtils;

/**
 * Loads the tokenizers' native library once, which makes DJL unpack it into its cache
 * ({@code DJL_CACHE_DIR}): at image build time, so that a container starts on a read-only root
 * filesystem. {@code java -cp 'lib/main/*' io.peftplatform.text.TokenizerNatives} (services with ND4J run
 * {@code io.peftplatform.llama.nn.NativeCache}, which does this too).
 */
public final class TokenizerNatives {
  private TokenizerNatives() {}

  /** Loads (and so caches) the tokenizers' library. */
  public static void load() {
    LibUtils.checkStatus();
  }

  public static void main(String[] args) {
    load();
    System.out.println("tokenizer-natives: loaded; DJL's cache is " + System.getenv().getOrDefault("DJL_CACHE_DIR", "~/.djl.ai"));
  }
}
