// config.json reading: the published configs of Llama-2-7B, TinyLlama,
// Mistral-7B, Qwen2-0.5B, SmolLM2-135M and Llama-3.1-8B, the newer
// rope_parameters form, and broken configs with the error each must give.
#include <QtTest>

#include "engine/hf_config.h"

using namespace glassbox::engine;

namespace {

const char* kLlama2_7B = R"({
  "_name_or_path": "meta-llama/Llama-2-7b-hf",
  "architectures": ["LlamaForCausalLM"],
  "bos_token_id": 1,
  "eos_token_id": 2,
  "hidden_act": "silu",
  "hidden_size": 4096,
  "initializer_range": 0.02,
  "intermediate_size": 11008,
  "max_position_embeddings": 4096,
  "model_type": "llama",
  "num_attention_heads": 32,
  "num_hidden_layers": 32,
  "num_key_value_heads": 32,
  "pretraining_tp": 1,
  "rms_norm_eps": 1e-05,
  "rope_scaling": null,
  "tie_word_embeddings": false,
  "torch_dtype": "float16",
  "transformers_version": "4.31.0.dev0",
  "use_cache": true,
  "vocab_size": 32000
})";

const char* kTinyLlama = R"({
  "architectures": ["LlamaForCausalLM"],
  "attention_bias": false,
  "bos_token_id": 1,
  "eos_token_id": 2,
  "hidden_act": "silu",
  "hidden_size": 2048,
  "initializer_range": 0.02,
  "intermediate_size": 5632,
  "max_position_embeddings": 2048,
  "model_type": "llama",
  "num_attention_heads": 32,
  "num_hidden_layers": 22,
  "num_key_value_heads": 4,
  "pretraining_tp": 1,
  "rms_norm_eps": 1e-05,
  "rope_scaling": null,
  "rope_theta": 10000.0,
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.35.0",
  "use_cache": true,
  "vocab_size": 32000
})";

const char* kMistral7B = R"({
  "architectures": ["MistralForCausalLM"],
  "bos_token_id": 1,
  "eos_token_id": 2,
  "hidden_act": "silu",
  "hidden_size": 4096,
  "initializer_range": 0.02,
  "intermediate_size": 14336,
  "max_position_embeddings": 32768,
  "model_type": "mistral",
  "num_attention_heads": 32,
  "num_hidden_layers": 32,
  "num_key_value_heads": 8,
  "rms_norm_eps": 1e-05,
  "rope_theta": 10000.0,
  "sliding_window": 4096,
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.34.0.dev0",
  "use_cache": true,
  "vocab_size": 32000
})";

const char* kQwen2_05B = R"({
  "architectures": ["Qwen2ForCausalLM"],
  "attention_dropout": 0.0,
  "bos_token_id": 151643,
  "eos_token_id": 151643,
  "hidden_act": "silu",
  "hidden_size": 896,
  "initializer_range": 0.02,
  "intermediate_size": 4864,
  "max_position_embeddings": 131072,
  "max_window_layers": 24,
  "model_type": "qwen2",
  "num_attention_heads": 14,
  "num_hidden_layers": 24,
  "num_key_value_heads": 2,
  "rms_norm_eps": 1e-06,
  "rope_theta": 1000000.0,
  "sliding_window": 131072,
  "tie_word_embeddings": true,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.40.1",
  "use_cache": true,
  "use_sliding_window": false,
  "vocab_size": 151936
})";

const char* kSmolLM2_135M = R"({
  "architectures": ["LlamaForCausalLM"],
  "attention_bias": false,
  "attention_dropout": 0.0,
  "bos_token_id": 0,
  "eos_token_id": 0,
  "hidden_act": "silu",
  "hidden_size": 576,
  "initializer_range": 0.041666666666666664,
  "intermediate_size": 1536,
  "is_llama_config": true,
  "max_position_embeddings": 8192,
  "model_type": "llama",
  "num_attention_heads": 9,
  "num_hidden_layers": 30,
  "num_key_value_heads": 3,
  "pretraining_tp": 1,
  "rms_norm_eps": 1e-05,
  "rope_interleaved": false,
  "rope_scaling": null,
  "rope_theta": 100000,
  "tie_word_embeddings": true,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.40.1",
  "use_cache": true,
  "vocab_size": 49152
})";

const char* kLlama31_8B = R"({
  "architectures": ["LlamaForCausalLM"],
  "attention_bias": false,
  "attention_dropout": 0.0,
  "bos_token_id": 128000,
  "eos_token_id": [128001, 128008, 128009],
  "hidden_act": "silu",
  "hidden_size": 4096,
  "initializer_range": 0.02,
  "intermediate_size": 14336,
  "max_position_embeddings": 131072,
  "mlp_bias": false,
  "model_type": "llama",
  "num_attention_heads": 32,
  "num_hidden_layers": 32,
  "num_key_value_heads": 8,
  "pretraining_tp": 1,
  "rms_norm_eps": 1e-05,
  "rope_scaling": {
    "factor": 8.0,
    "low_freq_factor": 1.0,
    "high_freq_factor": 4.0,
    "original_max_position_embeddings": 8192,
    "rope_type": "llama3"
  },
  "rope_theta": 500000.0,
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.43.0.dev0",
  "use_cache": true,
  "vocab_size": 128256
})";

// The smallest config that parses, for the error cases to break.
const char* kMinimal = R"({"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2,
  "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 100})";

HfConfig parsedOk(const char* json) {
    auto r = parseHfConfig(json);
    if (!r.ok()) qWarning("%s", r.error().toString().c_str());
    return r.ok() ? std::move(r).value() : HfConfig{};
}

// kMinimal with `key` replaced (or added) as `value` (raw JSON text).
std::string withKey(const std::string& key, const std::string& value) {
    std::string s = kMinimal;
    const std::string quoted = "\"" + key + "\"";
    const size_t at = s.find(quoted);
    if (at == std::string::npos) {
        s.insert(1, quoted + ": " + value + ", ");
    } else {
        const size_t begin = s.find(':', at) + 2;
        const size_t end = s.find_first_of(",}", begin);
        s.replace(begin, end - begin, value);
    }
    return s;
}

std::string withoutKey(const std::string& key) {
    std::string s = kMinimal;
    const size_t at = s.find("\"" + key + "\"");
    const size_t end = s.find_first_of(",}", at);
    if (s[end] == ',') {
        s.erase(at, end + 1 - at);
    } else {  // the last key: drop the comma before it
        const size_t comma = s.rfind(',', at);
        s.erase(comma, end - comma);
    }
    return s;
}

}  // namespace

class TestHfConfig : public QObject {
    Q_OBJECT

private slots:
    void llama2();
    void tinyLlama();
    void mistral();
    void qwen2();
    void smolLM2();
    void llama31RopeScaling();
    void ropeParametersAndDefaults();
    void linearScaling();
    void errors_data();
    void errors();
    void fileErrors();
};

void TestHfConfig::llama2() {
    const HfConfig c = parsedOk(kLlama2_7B);
    QCOMPARE(c.architectures, std::vector<std::string>{"LlamaForCausalLM"});
    QCOMPARE(c.modelType, std::string("llama"));
    QCOMPARE(c.hiddenSize, int64_t(4096));
    QCOMPARE(c.numHiddenLayers, int64_t(32));
    QCOMPARE(c.numAttentionHeads, int64_t(32));
    QCOMPARE(c.numKeyValueHeads, int64_t(32));
    QCOMPARE(c.intermediateSize, int64_t(11008));
    QCOMPARE(c.vocabSize, int64_t(32000));
    QCOMPARE(c.maxPositionEmbeddings, int64_t(4096));
    QCOMPARE(c.rmsNormEps, 1e-5);
    QCOMPARE(c.ropeTheta, 10000.0);  // absent: the default
    QVERIFY(c.ropeScalingType.empty());
    QVERIFY(c.ropeScalingSupported());
    QCOMPARE(c.torchDtype, std::string("float16"));
    QCOMPARE(c.bosTokenId, std::optional<int64_t>(1));
    QCOMPARE(c.eosTokenIds, std::vector<int64_t>{2});
    QCOMPARE(c.hiddenAct, std::string("silu"));
    QVERIFY(!c.tieWordEmbeddings);
    QVERIFY(!c.attentionBias);
    QVERIFY(!c.headDim);
    QCOMPARE(c.effectiveHeadDim(), int64_t(128));
    QVERIFY(c.warnings.empty());
}

void TestHfConfig::tinyLlama() {
    const HfConfig c = parsedOk(kTinyLlama);
    QCOMPARE(c.hiddenSize, int64_t(2048));
    QCOMPARE(c.numHiddenLayers, int64_t(22));
    QCOMPARE(c.numKeyValueHeads, int64_t(4));
    QCOMPARE(c.intermediateSize, int64_t(5632));
    QCOMPARE(c.effectiveHeadDim(), int64_t(64));
    QCOMPARE(c.torchDtype, std::string("bfloat16"));
    QVERIFY(c.warnings.empty());
}

void TestHfConfig::mistral() {
    const HfConfig c = parsedOk(kMistral7B);
    QCOMPARE(c.architectures, std::vector<std::string>{"MistralForCausalLM"});
    QCOMPARE(c.modelType, std::string("mistral"));
    QCOMPARE(c.numKeyValueHeads, int64_t(8));
    QCOMPARE(c.intermediateSize, int64_t(14336));
    QCOMPARE(c.maxPositionEmbeddings, int64_t(32768));
    QCOMPARE(c.slidingWindow, std::optional<int64_t>(4096));
    QCOMPARE(c.warnings.size(), size_t(1));
    QVERIFY(!c.attentionBias);
}

void TestHfConfig::qwen2() {
    const HfConfig c = parsedOk(kQwen2_05B);
    QCOMPARE(c.modelType, std::string("qwen2"));
    QCOMPARE(c.hiddenSize, int64_t(896));
    QCOMPARE(c.numAttentionHeads, int64_t(14));
    QCOMPARE(c.numKeyValueHeads, int64_t(2));
    QCOMPARE(c.effectiveHeadDim(), int64_t(64));
    QCOMPARE(c.vocabSize, int64_t(151936));
    QCOMPARE(c.rmsNormEps, 1e-6);
    QCOMPARE(c.ropeTheta, 1e6);
    QVERIFY(c.tieWordEmbeddings);
    QVERIFY(c.attentionBias);   // implied by qwen2
    QVERIFY(!c.slidingWindow);  // use_sliding_window is false
    QCOMPARE(c.bosTokenId, std::optional<int64_t>(151643));
    QCOMPARE(c.eosTokenIds, std::vector<int64_t>{151643});
    QVERIFY(c.warnings.empty());
}

void TestHfConfig::smolLM2() {
    const HfConfig c = parsedOk(kSmolLM2_135M);
    QCOMPARE(c.hiddenSize, int64_t(576));
    QCOMPARE(c.numHiddenLayers, int64_t(30));
    QCOMPARE(c.numAttentionHeads, int64_t(9));
    QCOMPARE(c.numKeyValueHeads, int64_t(3));
    QCOMPARE(c.effectiveHeadDim(), int64_t(64));
    QCOMPARE(c.vocabSize, int64_t(49152));
    QCOMPARE(c.ropeTheta, 100000.0);  // written as an integer
    QVERIFY(c.tieWordEmbeddings);
    QCOMPARE(c.bosTokenId, std::optional<int64_t>(0));
    QCOMPARE(c.eosTokenIds, std::vector<int64_t>{0});
}

void TestHfConfig::llama31RopeScaling() {
    const HfConfig c = parsedOk(kLlama31_8B);
    QCOMPARE(c.eosTokenIds, (std::vector<int64_t>{128001, 128008, 128009}));
    QCOMPARE(c.ropeTheta, 500000.0);
    QCOMPARE(c.ropeScalingType, std::string("llama3"));
    QCOMPARE(c.ropeScalingFactor, 8.0);
    QVERIFY(!c.ropeScalingSupported());
    QCOMPARE(c.warnings.size(), size_t(1));
    QVERIFY(c.warnings[0].find("llama3") != std::string::npos);
}

void TestHfConfig::ropeParametersAndDefaults() {
    auto c = parsedOk(R"({"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": null, "head_dim": null,
        "intermediate_size": 128, "vocab_size": 100, "dtype": "bfloat16",
        "rope_parameters": {"rope_theta": 50000.0, "rope_type": "default"}, "eos_token_id": null})");
    QCOMPARE(c.ropeTheta, 50000.0);
    QVERIFY(c.ropeScalingType.empty());
    QCOMPARE(c.numKeyValueHeads, int64_t(4));
    QVERIFY(!c.headDim);
    QCOMPARE(c.torchDtype, std::string("bfloat16"));
    QVERIFY(c.eosTokenIds.empty());
    QVERIFY(!c.bosTokenId);
    QCOMPARE(c.maxPositionEmbeddings, int64_t(2048));
    QCOMPARE(c.rmsNormEps, 1e-6);
    QVERIFY(c.architectures.empty());

    // head_dim decouples the head size from hidden_size / heads.
    c = parsedOk(withKey("head_dim", "48").c_str());
    QCOMPARE(c.effectiveHeadDim(), int64_t(48));
    c = parsedOk(withKey("num_attention_heads", "5").replace(1, 0, "\"head_dim\": 16, ").c_str());
    QCOMPARE(c.effectiveHeadDim(), int64_t(16));
    QVERIFY(parsedOk(withKey("attention_bias", "true").c_str()).attentionBias);
    QVERIFY(parsedOk(withKey("hidden_size", "64.0").c_str()).hiddenSize == 64);
}

void TestHfConfig::linearScaling() {
    const HfConfig c =
        parsedOk(withKey("rope_scaling", R"({"type": "linear", "factor": 4.0})").c_str());
    QCOMPARE(c.ropeScalingType, std::string("linear"));
    QCOMPARE(c.ropeScalingFactor, 4.0);
    QVERIFY(c.ropeScalingSupported());
    QVERIFY(c.warnings.empty());
    const HfConfig d =
        parsedOk(withKey("rope_scaling", R"({"rope_type": "dynamic", "factor": 2})").c_str());
    QCOMPARE(d.ropeScalingType, std::string("dynamic"));
    QVERIFY(!d.ropeScalingSupported());
    QCOMPARE(d.warnings.size(), size_t(1));
}

void TestHfConfig::errors_data() {
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("field");
    const int notFound = int(ErrorCode::NotFound);
    const int malformed = int(ErrorCode::Malformed);
    auto row = [](const char* name, const std::string& json, int code, const char* field) {
        QTest::newRow(name) << QByteArray::fromStdString(json) << code << QString(field);
    };
    row("not json", "{\"model_type\": ", int(ErrorCode::Truncated), "$.model_type");
    row("not an object", "[1, 2]", malformed, "$");
    for (const char* key : {"model_type", "hidden_size", "num_hidden_layers", "num_attention_heads",
                            "intermediate_size", "vocab_size"})
        QTest::newRow(qPrintable(QString("missing ") + key))
            << QByteArray::fromStdString(withoutKey(key)) << notFound << QString("$.") + key;
    row("hidden_size string", withKey("hidden_size", "\"4096\""), malformed, "$.hidden_size");
    row("hidden_size fraction", withKey("hidden_size", "64.5"), malformed, "$.hidden_size");
    row("hidden_size bool", withKey("hidden_size", "true"), malformed, "$.hidden_size");
    row("hidden_size zero", withKey("hidden_size", "0"), malformed, "$.hidden_size");
    row("hidden_size negative", withKey("hidden_size", "-64"), malformed, "$.hidden_size");
    row("hidden_size huge", withKey("hidden_size", "1e12"), malformed, "$.hidden_size");
    row("layers absurd", withKey("num_hidden_layers", "1000000"), malformed, "$.num_hidden_layers");
    row("vocab absurd", withKey("vocab_size", "9007199254740993"), malformed, "$.vocab_size");
    row("heads do not divide", withKey("num_attention_heads", "5"), malformed,
        "$.num_attention_heads");
    row("kv heads do not divide", withKey("num_key_value_heads", "3"), malformed,
        "$.num_key_value_heads");
    row("kv heads above heads", withKey("num_key_value_heads", "8"), malformed,
        "$.num_key_value_heads");
    row("kv heads zero", withKey("num_key_value_heads", "0"), malformed, "$.num_key_value_heads");
    row("head_dim zero", withKey("head_dim", "0"), malformed, "$.head_dim");
    row("model_type number", withKey("model_type", "7"), malformed, "$.model_type");
    row("architectures string", withKey("architectures", "\"LlamaForCausalLM\""), malformed,
        "$.architectures");
    row("architectures item", withKey("architectures", "[1]"), malformed, "$.architectures[0]");
    row("eps zero", withKey("rms_norm_eps", "0"), malformed, "$.rms_norm_eps");
    row("eps one", withKey("rms_norm_eps", "1.5"), malformed, "$.rms_norm_eps");
    row("eps string", withKey("rms_norm_eps", "\"1e-5\""), malformed, "$.rms_norm_eps");
    row("theta negative", withKey("rope_theta", "-1"), malformed, "$.rope_theta");
    row("tie not bool", withKey("tie_word_embeddings", "1"), malformed, "$.tie_word_embeddings");
    row("eos negative", withKey("eos_token_id", "-1"), malformed, "$.eos_token_id");
    row("eos list item", withKey("eos_token_id", "[2, \"x\"]"), malformed, "$.eos_token_id[1]");
    row("bos string", withKey("bos_token_id", "\"1\""), malformed, "$.bos_token_id");
    row("rope_scaling string", withKey("rope_scaling", "\"linear\""), malformed, "$.rope_scaling");
    row("linear without factor", withKey("rope_scaling", R"({"type": "linear"})"), notFound,
        "$.rope_scaling.factor");
    row("factor zero", withKey("rope_scaling", R"({"type": "linear", "factor": 0})"), malformed,
        "$.rope_scaling.factor");
    row("max positions zero", withKey("max_position_embeddings", "0"), malformed,
        "$.max_position_embeddings");
    row("duplicate key", withKey("hidden_act", "\"silu\", \"hidden_act\": \"gelu\""), malformed,
        "$.hidden_act");
}

void TestHfConfig::errors() {
    QFETCH(QByteArray, json);
    QFETCH(int, code);
    QFETCH(QString, field);
    auto r = parseHfConfig(std::string_view(json.constData(), size_t(json.size())));
    QVERIFY2(!r.ok(), "accepted");
    QVERIFY2(int(r.error().code) == code, r.error().toString().c_str());
    QCOMPARE(QString::fromStdString(r.error().field), field);
    QVERIFY(r.error().offset != kNoOffset);
    QVERIFY(r.error().offset <= uint64_t(json.size()));
}

void TestHfConfig::fileErrors() {
    QCOMPARE(readHfConfigFile("/nonexistent/config.json").error().code, ErrorCode::Io);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.path() + "/config.json";
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(kTinyLlama);
    f.close();
    auto c = readHfConfigFile(path.toStdString());
    QVERIFY(c.ok());
    QCOMPARE(c->numHiddenLayers, int64_t(22));
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.close();
    QCOMPARE(readHfConfigFile(path.toStdString()).error().code, ErrorCode::Truncated);
}

QTEST_GUILESS_MAIN(TestHfConfig)
#include "tst_hf_config.moc"
