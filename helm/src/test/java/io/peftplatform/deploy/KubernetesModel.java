package io.peftplatform.deploy;

import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.DeserializationConfig;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.BeanDeserializerBuilder;
import com.fasterxml.jackson.databind.deser.BeanDeserializerModifier;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerBehavior;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Rendered manifests read strictly into the Kubernetes API types of the fabric8 model: a field the type
 * does not have (a misspelling, a field of another API version), a value of the wrong type or an
 * apiVersion/kind the chart has no business rendering fails, as the API server would refuse it.
 *
 * <p>fabric8's classes keep unknown fields in an {@code additionalProperties} map (a JSON any-setter),
 * so FAIL_ON_UNKNOWN_PROPERTIES alone never fires on them: the any-setter is removed from every fabric8
 * type here. KEDA's ScaledObject has no fabric8 type: it is checked against a JSON schema of its CRD
 * ({@code crds/keda-scaledobject.schema.json}), its metadata and HPA behaviour with the fabric8 types.
 */
final class KubernetesModel {
  static final ObjectMapper STRICT = JsonMapper.builder()
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
      .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS) // replicas: "2" is not an integer to the API server
      .addModule(new SimpleModule("strict-fabric8").setDeserializerModifier(new BeanDeserializerModifier() {
        @Override
        public BeanDeserializerBuilder updateBuilder(DeserializationConfig config, BeanDescription bean, BeanDeserializerBuilder builder) {
          if (bean.getBeanClass().getName().startsWith("io.fabric8.")) {
            builder.setAnySetter(null);
            builder.setIgnoreUnknownProperties(false);
          }
          return builder;
        }
      }))
      .build();

  /** What the chart may render: apiVersion/kind → its type. */
  static final Map<String, Class<?>> TYPES = Map.ofEntries(
      Map.entry("v1/Secret", Secret.class),
      Map.entry("v1/Service", Service.class),
      Map.entry("v1/ConfigMap", ConfigMap.class),
      Map.entry("apps/v1/Deployment", Deployment.class),
      Map.entry("networking.k8s.io/v1/Ingress", Ingress.class),
      Map.entry("networking.k8s.io/v1/NetworkPolicy", NetworkPolicy.class),
      Map.entry("policy/v1/PodDisruptionBudget", PodDisruptionBudget.class),
      Map.entry("autoscaling/v2/HorizontalPodAutoscaler", HorizontalPodAutoscaler.class),
      Map.entry("monitoring.coreos.com/v1/ServiceMonitor", ServiceMonitor.class),
      Map.entry("monitoring.coreos.com/v1/PrometheusRule", PrometheusRule.class));
  static final String SCALED_OBJECT = "keda.sh/v1alpha1/ScaledObject";
  private static final JsonNode SCALED_OBJECT_SCHEMA = resource("crds/keda-scaledobject.schema.json");

  private KubernetesModel() {}

  /** The document as its API type; an IllegalArgumentException naming the document and what is wrong otherwise. */
  static Object parse(JsonNode doc) {
    String type = doc.path("apiVersion").asText() + "/" + doc.path("kind").asText();
    String where = type + " " + doc.path("metadata").path("name").asText();
    try {
      if (type.equals(SCALED_OBJECT)) {
        List<String> errors = new ArrayList<>();
        MiniJsonSchema.validate(SCALED_OBJECT_SCHEMA, doc, "", errors);
        if (!errors.isEmpty()) {
          throw new IllegalArgumentException(where + ": " + String.join("; ", errors));
        }
        STRICT.treeToValue(doc.path("metadata"), ObjectMeta.class);
        JsonNode behavior = doc.path("spec").path("advanced").path("horizontalPodAutoscalerConfig").path("behavior");
        if (!behavior.isMissingNode()) {
          STRICT.treeToValue(behavior, HorizontalPodAutoscalerBehavior.class);
        }
        return doc;
      }
      Class<?> cls = TYPES.get(type);
      if (cls == null) {
        throw new IllegalArgumentException(where + ": not a type this chart renders (" + TYPES.keySet() + ", " + SCALED_OBJECT + ")");
      }
      return STRICT.treeToValue(doc, cls);
    } catch (IOException e) {
      throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
    }
  }

  private static JsonNode resource(String name) {
    try (InputStream in = KubernetesModel.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("no test resource " + name);
      }
      return STRICT.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
