// Parses the real SmolLM2-135M-Instruct Q4_1 file through MappedFile and
// checks the facts a loader relies on: architecture, hyperparameters,
// tokenizer arrays, tensor types and shapes, and that all tensor data lies
// inside the file. Skipped when the model is not present.
#include <QtTest>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "engine/gguf_file.h"
#include "engine/gguf_writer.h"
#include "engine/mapped_file.h"

using namespace glassbox::engine;

class TestGgufRealModel : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void header();
    void hyperparameters();
    void tokenizer();
    void tensors();
    void metadataCopiesThroughWriter();

private:
    MappedFile m_mapped;
    std::optional<GgufFile> m_file;
};

void TestGgufRealModel::initTestCase() {
    const char* dir = std::getenv("GLASSBOX_MODELS_DIR");
    const std::string path = std::string(dir ? dir : "models") + "/SmolLM2-135M-Instruct.Q4_1.gguf";
    auto mapped = MappedFile::open(path);
    if (!mapped.ok()) QSKIP(qPrintable("model not available: " + QString::fromStdString(mapped.error().toString())));
    m_mapped = std::move(mapped).value();
    const auto start = std::chrono::steady_clock::now();
    auto parsed = GgufFile::parse(m_mapped.bytes());
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    QVERIFY2(parsed.ok(), parsed.ok() ? "" : parsed.error().toString().c_str());
    std::printf("parsed %s (%llu bytes) in %.2f ms\n", path.c_str(), (unsigned long long)m_mapped.size(), ms);
    m_file.emplace(std::move(parsed).value());
}

void TestGgufRealModel::header() {
    QCOMPARE(m_file->version(), 3u);
    QCOMPARE(m_file->alignment(), 32u);
    QCOMPARE(m_file->metadata().size(), size_t(33));
    QCOMPARE(m_file->tensors().size(), size_t(272));
    QCOMPARE(m_file->dataOffset(), uint64_t(1785664));
}

void TestGgufRealModel::hyperparameters() {
    const GgufFile& f = *m_file;
    QCOMPARE(f.getString("general.architecture"), std::optional<std::string>("llama"));
    QCOMPARE(f.getInt("llama.block_count"), std::optional<int64_t>(30));
    QCOMPARE(f.getInt("llama.embedding_length"), std::optional<int64_t>(576));
    QCOMPARE(f.getInt("llama.feed_forward_length"), std::optional<int64_t>(1536));
    QCOMPARE(f.getInt("llama.attention.head_count"), std::optional<int64_t>(9));
    QCOMPARE(f.getInt("llama.attention.head_count_kv"), std::optional<int64_t>(3));
    QCOMPARE(f.getInt("llama.context_length"), std::optional<int64_t>(8192));
    QCOMPARE(f.getInt("llama.vocab_size"), std::optional<int64_t>(49152));
    QCOMPARE(f.getFloat("llama.rope.freq_base"), std::optional<double>(100000.0));
    QVERIFY(std::abs(*f.getFloat("llama.attention.layer_norm_rms_epsilon") - 1e-5) < 1e-9);
    QCOMPARE(f.getBool("tokenizer.ggml.add_bos_token"), std::optional<bool>(false));
    QVERIFY(f.getString("tokenizer.chat_template")->find("<|im_start|>") != std::string::npos);
}

void TestGgufRealModel::tokenizer() {
    const GgufFile& f = *m_file;
    QCOMPARE(f.getString("tokenizer.ggml.model"), std::optional<std::string>("gpt2"));
    const auto tokens = f.getStringArray("tokenizer.ggml.tokens");
    QVERIFY(tokens);
    QCOMPARE(tokens->size(), size_t(49152));
    QCOMPARE(tokens->front(), std::string("<|endoftext|>"));
    QCOMPARE(f.find("tokenizer.ggml.tokens")->arrayString(1), std::optional<std::string_view>("<|im_start|>"));
    const auto types = f.getIntArray("tokenizer.ggml.token_type");
    QVERIFY(types);
    QCOMPARE(types->size(), size_t(49152));
    const auto merges = f.getStringArray("tokenizer.ggml.merges");
    QVERIFY(merges);
    QCOMPARE(merges->size(), size_t(48900));
    QCOMPARE(f.getInt("tokenizer.ggml.eos_token_id"), std::optional<int64_t>(2));
    QVERIFY(f.find("tokenizer.ggml.tokens")->toDisplayString(3).find("(49152 items)") != std::string::npos);
}

void TestGgufRealModel::tensors() {
    const GgufFile& f = *m_file;
    const GgufTensorInfo* embd = f.findTensor("token_embd.weight");
    QVERIFY(embd);
    QCOMPARE(embd->type, TensorType::Q8_0);
    QCOMPARE(embd->nDims, 2);
    QCOMPARE(embd->ne[0], int64_t(576));
    QCOMPARE(embd->ne[1], int64_t(49152));
    QCOMPARE(embd->bytes, uint64_t(30081024));
    const GgufTensorInfo* q = f.findTensor("blk.0.attn_q.weight");
    QVERIFY(q);
    QCOMPARE(q->type, TensorType::Q4_1);
    QCOMPARE(q->ne[0], int64_t(576));
    QCOMPARE(q->ne[1], int64_t(576));
    QCOMPARE(f.findTensor("blk.0.attn_norm.weight")->type, TensorType::F32);
    int q41 = 0, f32 = 0, q80 = 0;
    uint64_t total = 0;
    for (const auto& t : f.tensors()) {
        q41 += t.type == TensorType::Q4_1;
        f32 += t.type == TensorType::F32;
        q80 += t.type == TensorType::Q8_0;
        total += t.bytes;
        const TensorView v = f.view(t);
        QVERIFY(v.data);
        QVERIFY(v.data + v.bytes <= m_mapped.bytes().data() + m_mapped.size());
    }
    QCOMPARE(q41, 210);
    QCOMPARE(f32, 61);
    QCOMPARE(q80, 1);
    QCOMPARE(total, uint64_t(96576768));
    QVERIFY(total + f.dataOffset() <= m_mapped.size());
}

void TestGgufRealModel::metadataCopiesThroughWriter() {
    GgufWriter w;
    for (const auto& [key, value] : m_file->metadata()) w.set(key, value);
    const auto bytes = w.writeToBuffer().value();
    // The metadata section is encoded byte for byte as in the original
    // (the copy only lacks tensor infos and differs in the tensor count).
    const auto original = m_mapped.bytes();
    QVERIFY(bytes.size() > 64);
    QVERIFY(std::equal(bytes.begin() + 16, bytes.end() - 32, original.begin() + 16));
    const auto copy = GgufFile::parse({bytes.data(), bytes.size()});
    QVERIFY(copy.ok());
    QCOMPARE(copy->metadata().size(), m_file->metadata().size());
    QCOMPARE(copy->getStringArray("tokenizer.ggml.merges"), m_file->getStringArray("tokenizer.ggml.merges"));
    QCOMPARE(copy->getIntArray("tokenizer.ggml.token_type"), m_file->getIntArray("tokenizer.ggml.token_type"));
}

QTEST_GUILESS_MAIN(TestGgufRealModel)
#include "tst_gguf_real_model.moc"
