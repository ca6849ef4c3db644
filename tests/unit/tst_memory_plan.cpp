// The memory planner: the Llama-2-7B KV example to the byte, KV storage
// types, MHA/GQA/MQA, the budget searches, typed errors for bad configs and
// options, size parsing, and the planner against what Sessions on synthetic
// GGUF models of several shapes really allocate (glibc heap counters).
#include <QtTest>

#include <cmath>
#include <fstream>
#include <functional>

#include "engine/gguf_file.h"
#include "engine/memory_plan.h"
#include "engine/model.h"
#include "engine/session.h"
#include "support/hf_export.h"
#include "support/synthetic_model.h"
#include "support/test_paths.h"

#include "support/heap_usage.h"

using namespace glassbox;
using engine::TensorType;

namespace {

const char* kLlama2Config = R"({
  "architectures": ["LlamaForCausalLM"], "model_type": "llama",
  "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
  "num_key_value_heads": 32, "intermediate_size": 11008, "vocab_size": 32000,
  "max_position_embeddings": 4096, "rms_norm_eps": 1e-05, "torch_dtype": "float16"
})";

std::string writeText(const std::string& dir, const std::string& name, const std::string& text) {
    const std::string path = dir + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

// The Llama-2-7B text with one "key": value replaced (or removed when value is empty).
std::string llama2With(const std::string& key, const std::string& value) {
    std::string s = kLlama2Config;
    const size_t at = s.find("\"" + key + "\"");
    const size_t end = s.find_first_of(",}", at);
    const std::string repl = value.empty() ? std::string() : "\"" + key + "\": " + value;
    s.replace(at, end - at + (value.empty() && s[end] == ',' ? 1 : 0), repl);
    return s;
}

#ifdef GLASSBOX_HAVE_HEAP_USAGE
using testing::heapInUse;
#endif

}  // namespace

class TestMemoryPlan : public QObject {
    Q_OBJECT
    std::string m_dir;
    engine::ModelFootprint m_llama2;

    engine::MemoryPlan plan(const engine::ModelFootprint& fp, int ctx, TensorType kv = TensorType::F16,
                            int sequences = 1, uint64_t budget = 0) {
        engine::PlanOptions o;
        o.contextSize = ctx;
        o.kvType = kv;
        o.sequences = sequences;
        o.threads = 2;
        o.budgetBytes = budget;
        auto p = engine::planMemory(fp, o);
        if (!p) qFatal("%s", p.error().toString().c_str());
        return *p;
    }

private slots:
    void initTestCase() {
        m_dir = testing::makeTempDir("memory_plan");
        auto fp = engine::footprintFromConfigJson(writeText(m_dir, "config.json", kLlama2Config));
        QVERIFY2(fp.ok(), fp.ok() ? "" : fp.error().toString().c_str());
        m_llama2 = *fp;
    }

    void seedExampleLlama2At1000Tokens() {
        const engine::MemoryPlan p = plan(m_llama2, 1000);
        QCOMPARE(p.kvBytesPerToken, uint64_t(524'288));
        QCOMPARE(p.kvBytesPerSequence, uint64_t(524'288'000));
        QCOMPARE(QString::fromStdString(p.kvFormula),
                 QString::fromUtf8("2 × 32 layers × 32 KV heads × 128 dims × 1,000 tokens × 2 bytes = "
                                   "524,288,000 bytes (524.3 MB)"));
        // Weights estimated as F16 (torch_dtype): Llama-2-7B has 6,738,415,616 parameters.
        uint64_t elements = 0;
        for (const auto& w : m_llama2.weights) elements += w.elements;
        QCOMPARE(elements, uint64_t(6'738'415'616));
        QVERIFY(m_llama2.weightsEstimated);
        QCOMPARE(m_llama2.weights[0].type, std::string("F16"));
        QCOMPARE(m_llama2.weightBytes, uint64_t(13'476'298'752 + 1'064'960));  // matrices F16, norms F32
        QCOMPARE(m_llama2.weightTensors, 2 + 1 + 32 * 9);
    }

    void kvStorageTypes() {
        QCOMPARE(plan(m_llama2, 1000, TensorType::F32).kvBytesPerSequence, uint64_t(1'048'576'000));
        QCOMPARE(plan(m_llama2, 1000, TensorType::Q8_0).kvBytesPerSequence, uint64_t(278'528'000));  // 34 per 32
        QCOMPARE(plan(m_llama2, 1000, TensorType::Q4_0).kvBytesPerSequence, uint64_t(147'456'000));  // 18 per 32
        const auto q8 = plan(m_llama2, 1000, TensorType::Q8_0);
        QVERIFY(q8.kvFormula.find("1.0625 bytes = 278,528,000 bytes (278.5 MB)") != std::string::npos);
        const auto four = plan(m_llama2, 1000, TensorType::F16, 4);
        QCOMPARE(four.kvBytesTotal, uint64_t(4 * 524'288'000ull));
        QCOMPARE(engine::kvFormula(m_llama2.config, TensorType::F16, 1000, 4),
                 std::string("2 × 32 layers × 32 KV heads × 128 dims × 1,000 tokens × 4 sequences × 2 bytes = "
                             "2,097,152,000 bytes (2.1 GB)"));
    }

    void attentionLayouts() {
        const auto mha = plan(m_llama2, 1000).attention;
        QCOMPARE(int(mha.size()), 2);  // the model is MHA: MHA and MQA
        QCOMPARE(mha[0].name, std::string("MHA"));
        QVERIFY(mha[0].actual);
        QCOMPARE(mha[0].kvBytes, uint64_t(524'288'000));
        QCOMPARE(mha[1].name, std::string("MQA"));
        QCOMPARE(mha[1].kvBytes, uint64_t(524'288'000 / 32));

        auto gqa = engine::footprintFromConfigJson(
            writeText(m_dir, "gqa.json", llama2With("num_key_value_heads", "8")));
        QVERIFY(gqa.ok());
        const auto v = plan(*gqa, 1000).attention;
        QCOMPARE(int(v.size()), 3);
        QCOMPARE(v[0].kvBytesPerToken, uint64_t(524'288));
        QCOMPARE(v[1].name, std::string("GQA"));
        QCOMPARE(v[1].nKvHeads, 8);
        QVERIFY(v[1].actual && !v[0].actual && !v[2].actual);
        QCOMPARE(v[1].kvBytesPerToken, uint64_t(131'072));
        QCOMPARE(v[2].kvBytesPerToken, uint64_t(16'384));
        QCOMPARE(plan(*gqa, 1000).kvBytesPerToken, uint64_t(131'072));
    }

    void largestContextAndSequenceCount() {
        const uint64_t budget = 20'000'000'000ull;
        const engine::MemoryPlan p = plan(m_llama2, 2048, TensorType::F16, 2, budget);
        QVERIFY(p.fit.has_value());
        const engine::BudgetFit& f = *p.fit;
        QCOMPARE(f.usableBytes, uint64_t(18'000'000'000ull));
        QVERIFY(f.maxContext > 2048 && f.maxContext < 8000);
        QVERIFY(plan(m_llama2, f.maxContext, TensorType::F16, 2).totalBytes <= f.usableBytes);
        QVERIFY(plan(m_llama2, f.maxContext + 1, TensorType::F16, 2).totalBytes > f.usableBytes);
        QVERIFY(f.fits);
        QVERIFY(plan(m_llama2, 2048, TensorType::F16, int(f.maxSequences)).totalBytes <= f.usableBytes);
        QVERIFY(plan(m_llama2, 2048, TensorType::F16, int(f.maxSequences) + 1).totalBytes > f.usableBytes);
        // Smaller KV elements reach further.
        const auto q4 = plan(m_llama2, 2048, TensorType::Q4_0, 2, budget);
        QVERIFY(q4.fit->maxContext > f.maxContext * 3);
        // Weights alone over the budget: nothing fits.
        const auto tiny = plan(m_llama2, 2048, TensorType::F16, 1, 8'000'000'000ull);
        QVERIFY(!tiny.fit->fits);
        QCOMPARE(tiny.fit->maxContext, 0);
        QCOMPARE(tiny.fit->maxSequences, int64_t(0));
        // An absurd budget stops at the backend's context limit.
        QCOMPARE(plan(m_llama2, 2048, TensorType::F16, 1, ~uint64_t(0) / 2).fit->maxContext, engine::kPlanMaxContext);
    }

    void badConfigFieldsAreNamed() {
        struct Case {
            std::string text;
            engine::ErrorCode code;
            std::string field;
        };
        const Case cases[] = {
            {llama2With("hidden_size", ""), engine::ErrorCode::NotFound, "$.hidden_size"},
            {llama2With("num_hidden_layers", ""), engine::ErrorCode::NotFound, "$.num_hidden_layers"},
            {llama2With("vocab_size", ""), engine::ErrorCode::NotFound, "$.vocab_size"},
            {llama2With("num_attention_heads", "\"32\""), engine::ErrorCode::Malformed, "$.num_attention_heads"},
            {llama2With("intermediate_size", "-5"), engine::ErrorCode::Malformed, "$.intermediate_size"},
            {llama2With("num_key_value_heads", "5"), engine::ErrorCode::Malformed, "$.num_key_value_heads"},
            {llama2With("model_type", "\"gpt2\""), engine::ErrorCode::Unsupported, "model_type"},
            {"{\"model_type\": \"llama\",", engine::ErrorCode::Truncated, ""},
        };
        int i = 0;
        for (const Case& c : cases) {
            auto fp = engine::footprintFromConfigJson(writeText(m_dir, "bad" + std::to_string(i++) + ".json", c.text));
            QVERIFY2(!fp.ok(), c.text.c_str());
            QCOMPARE(fp.error().code, c.code);
            if (!c.field.empty()) QCOMPARE(fp.error().field, c.field);
        }
        auto missing = engine::footprintFromConfigJson(m_dir + "/no-such-config.json");
        QVERIFY(!missing.ok());
        QCOMPARE(missing.error().code, engine::ErrorCode::Io);
        // Q4_K needs rows of 256 values; SmolLM2-sized rows of 576 do not divide.
        auto small = engine::footprintFromConfigJson(writeText(m_dir, "k.json", llama2With("hidden_size", "576")),
                                                     TensorType::Q4_K);
        if (small.ok()) QFAIL("576-wide rows accepted as Q4_K");
        QCOMPARE(small.error().code, engine::ErrorCode::InvalidArgument);
        QCOMPARE(small.error().field, std::string("token_embd.weight"));
    }

    void badOptionsAreNamed() {
        const std::pair<std::function<void(engine::PlanOptions&)>, std::string> cases[] = {
            {[](engine::PlanOptions& o) { o.contextSize = -1; }, "context"},
            {[](engine::PlanOptions& o) { o.contextSize = engine::kPlanMaxContext + 1; }, "context"},
            {[](engine::PlanOptions& o) { o.sequences = 0; }, "sequences"},
            {[](engine::PlanOptions& o) { o.microBatch = 0; }, "micro_batch"},
            {[](engine::PlanOptions& o) { o.threads = -2; }, "threads"},
            {[](engine::PlanOptions& o) { o.safetyMargin = 1.0; }, "safety_margin"},
            {[](engine::PlanOptions& o) { o.kvType = TensorType::Q4_1; }, "kv_type"},
        };
        for (const auto& [mutate, field] : cases) {
            engine::PlanOptions o;
            mutate(o);
            auto p = engine::planMemory(m_llama2, o);
            QVERIFY(!p.ok());
            QCOMPARE(p.error().code, engine::ErrorCode::InvalidArgument);
            QCOMPARE(p.error().field, field);
        }
        engine::ModelConfig odd = m_llama2.config;
        odd.headDim = 48;  // Q8_0 KV needs whole 32-value blocks per head
        auto kv = engine::kvBytesPerToken(odd, TensorType::Q8_0);
        QVERIFY(!kv.ok());
        QCOMPARE(kv.error().field, std::string("head_dim"));
        QVERIFY(engine::kvBytesPerToken(odd, TensorType::F16).ok());
        // Context 0 means the backend's default, min(training context, 4096).
        QCOMPARE(plan(m_llama2, 0).options.contextSize, 4096);
    }

    void sizesParseAndPrint() {
        QCOMPARE(*engine::parseByteSize("8GB"), uint64_t(8'000'000'000));
        QCOMPARE(*engine::parseByteSize(" 8 GiB "), uint64_t(8) << 30);
        QCOMPARE(*engine::parseByteSize("8G"), uint64_t(8) << 30);
        QCOMPARE(*engine::parseByteSize("512mb"), uint64_t(512'000'000));
        QCOMPARE(*engine::parseByteSize("1.5e9"), uint64_t(1'500'000'000));
        for (const char* bad : {"", "GB", "8 parsecs", "-1GB", "1e30TB", "nan"}) {
            auto r = engine::parseByteSize(bad);
            QVERIFY2(!r.ok(), bad);
            QCOMPARE(r.error().field, std::string("budget"));
        }
        QCOMPARE(engine::formatThousands(524'288'000), std::string("524,288,000"));
        QCOMPARE(engine::formatThousands(999), std::string("999"));
        QCOMPARE(engine::formatBytes(812), std::string("812 B"));
        QCOMPARE(engine::formatBytes(524'288'000), std::string("524.3 MB"));
        QCOMPARE(engine::formatBytes(999'999'999), std::string("1.0 GB"));
    }

    void systemMemoryAndGpus() {
        auto m = engine::parseMeminfo("MemTotal:       24576000 kB\nMemFree:  100 kB\nMemAvailable:   20000000 kB\n");
        QVERIFY(m.ok());
        QCOMPARE(m->totalRam, uint64_t(24'576'000) * 1024);
        QCOMPARE(m->availableRam, uint64_t(20'000'000) * 1024);
        QVERIFY(!m->cuda.has_value());
        auto old = engine::parseMeminfo("MemTotal: 1000 kB\nMemFree: 400 kB\n");
        QCOMPARE(old->availableRam, uint64_t(400 * 1024));
        QCOMPARE(engine::parseMeminfo("MemFree: 1 kB\n").error().field, std::string("MemTotal"));
        QCOMPARE(engine::parseMeminfo("MemTotal: lots\n").error().code, engine::ErrorCode::Malformed);
        const engine::SystemMemory sys = engine::querySystemMemory();
        QVERIFY(sys.totalRam > 0 && sys.availableRam <= sys.totalRam);
        QVERIFY(!sys.cuda.has_value());  // no CUDA query in this build
        const auto& gpus = engine::commonGpus();
        QCOMPARE(int(gpus.size()), 7);
        QCOMPARE(gpus.front().name, std::string("RTX 4060 8 GB"));
        QCOMPARE(gpus.front().bytes, uint64_t(8) << 30);
        QCOMPARE(gpus.back().name, std::string("H200 141 GB"));
    }

    // Synthetic GGUF models: the header-only footprint, the loaded model's and
    // a safetensors export agree with the file; uniform-type models are
    // predicted exactly from their config alone.
    void weightsMatchTheFiles() {
        testing::SyntheticModelSpec spec;
        spec.nLayers = 3;
        spec.nEmbd = 128;
        spec.nHead = 4;
        spec.nHeadKv = 2;
        spec.nFf = 352;
        spec.weightType = TensorType::Q8_0;
        spec.embeddingType = TensorType::Q8_0;
        spec.tiedEmbeddings = false;
        const std::string path = m_dir + "/w.gguf";
        QVERIFY(testing::writeSyntheticModel(path, spec).ok());
        auto model = engine::Model::load(path);
        QVERIFY(model.ok());
        auto fromFile = engine::footprintFromGguf(path);
        QVERIFY(fromFile.ok());
        QCOMPARE(fromFile->weightBytes, (*model)->weightBytes());
        QCOMPARE(engine::footprintFromModel(**model).weightBytes, (*model)->weightBytes());
        auto fromConfig = engine::footprintFromConfig((*model)->config(), TensorType::Q8_0);
        QVERIFY(fromConfig.ok());
        QCOMPARE(fromConfig->weightBytes, (*model)->weightBytes());
        QCOMPARE(fromConfig->weightTensors, int((*model)->tensorTable().size()));

        spec.weightType = spec.embeddingType = TensorType::F16;
        const std::string f16 = m_dir + "/f16.gguf";
        QVERIFY(testing::writeSyntheticModel(f16, spec).ok());
        auto f16Model = engine::Model::load(f16);
        QVERIFY(f16Model.ok());
        const std::string hfDir = testing::makeTempDir("memory_plan_hf");
        QVERIFY(testing::exportAsHfCheckpoint(**f16Model, hfDir).ok());
        auto hfModel = engine::Model::load(hfDir);
        QVERIFY(hfModel.ok());
        auto fromSt = engine::footprintFromSafetensors(hfDir);
        QVERIFY2(fromSt.ok(), fromSt.ok() ? "" : fromSt.error().toString().c_str());
        QCOMPARE(fromSt->weightBytes, (*hfModel)->weightBytes());
        QCOMPARE(fromSt->layers[0].q, (*hfModel)->layers()[0].wq.type);
        auto viaPath = engine::footprintFromPath(hfDir);
        QVERIFY(viaPath.ok() && viaPath->source == "safetensors");
        auto noConfig = engine::footprintFromSafetensors(testing::makeTempDir("memory_plan_empty") + "/x.safetensors");
        QVERIFY(!noConfig.ok());
        QCOMPARE(noConfig.error().code, engine::ErrorCode::NotFound);
        QCOMPARE(noConfig.error().field, std::string("config.json"));
        auto noShard = engine::footprintFromSafetensors(m_dir + "/nothing.safetensors");  // config.json is there
        QVERIFY(!noShard.ok());
        QCOMPARE(noShard.error().code, engine::ErrorCode::Io);
    }

    void plannerMatchesSessionAllocations();
};

// Predicted KV + scratch + logits for N sessions against the heap growth
// their creation and a first full micro-batch really cause.
void TestMemoryPlan::plannerMatchesSessionAllocations() {
#ifndef GLASSBOX_HAVE_HEAP_USAGE
    QSKIP("needs glibc mallinfo2() (not available under AddressSanitizer)");
#else
    struct Shape {
        int layers, embd, heads, kvHeads, ff;
        TensorType type;
        bool tied;
    };
    const Shape shapes[] = {
        {2, 64, 4, 2, 128, TensorType::F32, true},     {4, 128, 8, 2, 352, TensorType::Q8_0, false},
        {3, 256, 8, 8, 704, TensorType::Q4_1, true},   {6, 192, 6, 1, 512, TensorType::Q4_0, false},
        {2, 512, 8, 4, 1536, TensorType::Q4_K, false}, {2, 128, 4, 4, 256, TensorType::F16, true},
    };
    struct Run {
        int ctx, sequences, threads, microBatch;
    };
    const Run runs[] = {{512, 1, 2, 256}, {2048, 3, 1, 64}, {8192, 8, 2, 32}, {512, 8, 1, 256}, {8192, 2, 2, 128}};
    std::vector<int32_t> tokens;
    for (int i = 0; i < 256; ++i) tokens.push_back((i * 37 + 5) % 250);
    double worst = 0;
    int index = 0;
    for (const Shape& s : shapes) {
        testing::SyntheticModelSpec spec;
        spec.nLayers = s.layers;
        spec.nEmbd = s.embd;
        spec.nHead = s.heads;
        spec.nHeadKv = s.kvHeads;
        spec.nFf = s.ff;
        spec.weightType = spec.embeddingType = s.type;
        spec.tiedEmbeddings = s.tied;
        const std::string path = m_dir + "/m" + std::to_string(index++) + ".gguf";
        QVERIFY(testing::writeSyntheticModel(path, spec).ok());
        auto model = engine::Model::load(path);
        QVERIFY(model.ok());
        auto fp = engine::footprintFromGguf(path);
        QVERIFY(fp.ok());
        for (const Run& r : runs) {
            engine::PlanOptions po;
            po.contextSize = r.ctx;
            po.sequences = r.sequences;
            po.threads = r.threads;
            po.microBatch = r.microBatch;
            auto predicted = engine::planMemory(*fp, po);
            QVERIFY(predicted.ok());
            engine::BackendOptions bo;
            bo.contextSize = r.ctx;
            bo.threads = r.threads;
            bo.microBatch = r.microBatch;
            const uint64_t before = heapInUse();
            {
                std::vector<std::unique_ptr<engine::Session>> sessions;
                sessions.reserve(size_t(r.sequences));
                for (int n = 0; n < r.sequences; ++n) {
                    auto session = engine::Session::create(*model, bo);
                    QVERIFY(session.ok());
                    const auto batch = std::span(tokens).first(size_t(std::min(r.microBatch, r.ctx)));
                    QVERIFY((*session)->evaluate(batch).ok());
                    sessions.push_back(std::move(*session));
                }
                const double actual = double(heapInUse() - before) - double(r.sequences * sizeof(void*));
                const double want = double(predicted->totalBytes - predicted->weightBytes);
                const double err = (want - actual) / actual;
                const double scratchErr = (want - actual) / (actual - double(predicted->kvBytesTotal));
                worst = std::max(worst, std::fabs(err));
                qInfo("L%d d%d h%d/%d ff%d %-4s ctx %5d x%d t%d ub%3d: predicted %10.0f actual %10.0f (%+.2f%%, "
                      "scratch alone %+.2f%%)",
                      s.layers, s.embd, s.heads, s.kvHeads, s.ff, std::string(engine::tensorTypeName(s.type)).c_str(),
                      r.ctx, r.sequences, r.threads, r.microBatch, want, actual, 100.0 * err, 100.0 * scratchErr);
                QVERIFY2(std::fabs(err) < 0.05, "prediction more than 5% off");
                QVERIFY2(std::fabs(scratchErr) < 0.05, "scratch prediction more than 5% off");
            }
        }
    }
    qInfo("worst relative error: %.2f%%", 100.0 * worst);
#endif
}

QTEST_GUILESS_MAIN(TestMemoryPlan)
#include "tst_memory_plan.moc"
