package io.peftplatform.jobs;

import static io.peftplatform.jobs.TestResources.admin;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every bad job request is a 400 problem naming the field, never a 500. */
@QuarkusTest
class JobRequestValidationTest {
  static final String BASE = "\"model\": \"model-x\", \"training_file\": \"file-x\"";

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "{}                                                                                   | model",
    "{\"model\": 3, \"training_file\": \"file-x\"}                                       | model",
    "{\"model\": \"gpt-4\", \"training_file\": \"file-x\"}                               | model",
    "{\"model\": \"model-x\"}                                                            | training_file",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"method\": {\"type\": \"ia3\"}}                                     | method.type",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"method\": {\"type\": \"reinforcement\"}}                           | method.type",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"method\": {\"type\": \"dpo\", \"supervised\": {}}}                    | method.supervised",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"method\": {\"dpo\": {}}}                                          | method.dpo",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"method\": {\"type\": \"dpo\", \"dpo\": {\"hyperparameters\": {\"beta\": 0}}}}       | method.dpo.hyperparameters.beta",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"method\": {\"type\": \"dpo\", \"dpo\": {\"hyperparameters\": {\"packing\": true}}}} | method.dpo.hyperparameters.packing",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"method\": {\"type\": \"dpo\", \"dpo\": {\"hyperparameters\": {\"train_on_inputs\": true}}}} | method.dpo.hyperparameters.train_on_inputs",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"method\": {\"supervised\": {\"hyperparameters\": {\"beta\": 0.1}}}}     | method.supervised.hyperparameters.beta",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"method\": {\"type\": \"simpo\", \"dpo\": {}}}                    | method.dpo",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"method\": {\"type\": \"orpo\", \"simpo\": {}}}                  | method.simpo",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"method\": {\"type\": \"dpo\", \"dpo\": {\"hyperparameters\": {\"gamma\": 0.5}}}}   | method.dpo.hyperparameters.gamma",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"method\": {\"type\": \"simpo\", \"simpo\": {\"hyperparameters\": {\"gamma\": -1}}}} | method.simpo.hyperparameters.gamma",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"method\": {\"type\": \"orpo\", \"orpo\": {\"hyperparameters\": {\"packing\": true}}}} | method.orpo.hyperparameters.packing",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"hyperparameters\": {\"eval_every\": -1}}                               | hyperparameters.eval_every",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"hyperparameters\": {\"checkpoint_every\": \"often\"}}                  | hyperparameters.checkpoint_every",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"method\": {\"supervised\": {\"hyperparameters\": {\"n_epochs\": 0}}}} | method.supervised.hyperparameters.n_epochs",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"method\": {\"supervised\": {\"hyperparams\": {}}}}              | method.supervised.hyperparams",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"adapter\": {\"type\": \"ia3\"}}                                    | adapter.type",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"adapter\": {\"type\": \"lora\", \"rank\": 0}}                     | adapter.rank",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"adapter\": {\"rank\": \"8\"}}                                      | adapter.rank",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"adapter\": {\"ranks\": 8}}                                         | adapter.ranks",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"adapter\": {\"type\": \"nola\", \"use_rslora\": true}}              | adapter.use_rslora",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"adapter\": {\"target_modules\": \"lm_head\"}}                        | adapter.target_modules",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"adapter\": {\"type\": \"kronecker\", \"factor\": 0}}               | adapter.factor",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"hyperparameters\": {\"n_epochs\": -1}}                             | hyperparameters.n_epochs",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"hyperparameters\": {\"learning_rate\": \"fast\"}}                  | hyperparameters.learning_rate",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"hyperparameters\": {\"lr_scheduler\": \"step\"}}                   | hyperparameters.lr_scheduler",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"hyperparameters\": {\"epochs\": 3}}                                | hyperparameters.epochs",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"hyperparameters\": {\"precision\": \"fp16\"}}                       | hyperparameters.precision",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"seed\": 1.5}                                                       | seed",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"suffix\": \"has spaces\"}                                          | suffix",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"metadata\": {\"k\": 1}}                                            | metadata.k",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\", \"colour\": \"red\"}                                                 | colour",
    "{\"model\": \"model-x\", \"training_file\": \"file-x\"}                                                                      | model",
  })
  void refusedWithTheFieldNamed(String body, String field) {
    admin().contentType("application/json").body(body.replace("BASE", "")).post("/v1/fine_tuning/jobs")
        .then().statusCode(400).contentType("application/problem+json").body("field", equalTo(field)).body("status", equalTo(400));
  }

  @Test
  void malformedJsonAndWrongMediaTypes() {
    admin().contentType("application/json").body("{\"model\": ").post("/v1/fine_tuning/jobs")
        .then().statusCode(400).contentType("application/problem+json").body("detail", startsWith("invalid JSON"));
    admin().contentType("text/plain").body("hello").post("/v1/fine_tuning/jobs").then().statusCode(415).contentType("application/problem+json");
    admin().get("/v1/fine_tuning/jobs/ftjob-none").then().statusCode(404).contentType("application/problem+json");
    admin().delete("/v1/fine_tuning/jobs").then().statusCode(405).contentType("application/problem+json");
    admin().get("/v1/fine_tuning/jobs?limit=1000").then().statusCode(400).body("field", equalTo("limit"));
  }
}
