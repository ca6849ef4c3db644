// safetensors reader and writer: the valid base file, every corruption of
// it (typed error with field and offset, fast, allocations bounded by the
// input), prefix and byte-flip sweeps, the writer round trip, a reference
// file written by the Python safetensors library, and sharded indexes.
#include <QtTest>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>

#include "engine/json.h"
#include "engine/mapped_file.h"
#include "engine/safetensors_file.h"
#include "engine/safetensors_writer.h"
#include "support/safetensors_corruptions.h"

// ---- Counting allocator: records the largest single allocation while on ----

namespace {
std::atomic<bool> g_trackAllocations{false};
std::atomic<size_t> g_largestAllocation{0};

void* countedAlloc(size_t size, size_t alignment = 0) {
    if (g_trackAllocations.load(std::memory_order_relaxed)) {
        size_t prev = g_largestAllocation.load(std::memory_order_relaxed);
        while (size > prev && !g_largestAllocation.compare_exchange_weak(prev, size)) {
        }
    }
    if (size == 0) size = 1;
    if (alignment > alignof(std::max_align_t)) {
        void* p = nullptr;
        return posix_memalign(&p, alignment, size) == 0 ? p : nullptr;
    }
    return std::malloc(size);
}

void* countedAllocOrThrow(size_t size, size_t alignment = 0) {
    void* p = countedAlloc(size, alignment);
    if (!p) throw std::bad_alloc();
    return p;
}
}  // namespace

void* operator new(size_t n) { return countedAllocOrThrow(n); }
void* operator new[](size_t n) { return countedAllocOrThrow(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return countedAlloc(n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return countedAlloc(n); }
void* operator new(size_t n, std::align_val_t a) { return countedAllocOrThrow(n, size_t(a)); }
void* operator new[](size_t n, std::align_val_t a) { return countedAllocOrThrow(n, size_t(a)); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { std::free(p); }

using namespace glassbox::engine;
using glassbox::test::SafetensorsCorruption;

namespace {

std::span<const uint8_t> span(const std::vector<uint8_t>& v) { return {v.data(), v.size()}; }

float f32At(const SafetensorsTensor& t, size_t i) {
    float f;
    std::memcpy(&f, t.data.data() + 4 * i, 4);
    return f;
}

uint16_t u16At(const SafetensorsTensor& t, size_t i) {
    uint16_t h;
    std::memcpy(&h, t.data.data() + 2 * i, 2);
    return h;
}

QString dataPath(const char* name) {
    const QByteArray dir = qgetenv("GLASSBOX_TEST_DATA_DIR");
    return QString::fromLocal8Bit(dir) + "/safetensors/" + name;
}

}  // namespace

class TestSafetensors : public QObject {
    Q_OBJECT

private slots:
    void validBase();
    void corruptions_data();
    void corruptions();
    void prefixesAndByteFlipsNeverCrash();
    void emptyHeaderIsValid();
    void viewDims();
    void writerRoundTrip();
    void writerPaddingAndFile();
    void writerRejects();
    void referenceFile();
    void shardIndex();
    void shardNames();
};

void TestSafetensors::validBase() {
    const auto bytes = glassbox::test::validSafetensorsBase();
    auto file = SafetensorsFile::parse(span(bytes));
    QVERIFY2(file.ok(), file.ok() ? "" : file.error().toString().c_str());
    QCOMPARE(file->tensors().size(), size_t(3));
    QCOMPARE(file->dataOffset() % 8, uint64_t(0));
    QCOMPARE(file->metadataValue("format").value_or(""), std::string_view("pt"));
    QVERIFY(!file->metadataValue("nope"));

    const SafetensorsTensor* a = file->findTensor("a.weight");
    QVERIFY(a);
    QCOMPARE(a->dtype, SafetensorsDtype::F32);
    QCOMPARE(a->shape, (std::vector<uint64_t>{16, 16}));
    QCOMPARE(a->elements, uint64_t(256));
    QCOMPARE(a->data.size(), size_t(1024));
    QCOMPARE(a->data.data(), bytes.data() + file->dataOffset());
    auto view = SafetensorsFile::view(*a);
    QVERIFY(view.ok());
    QCOMPARE(view->type, TensorType::F32);
    QCOMPARE(view->nDims, 2);
    QCOMPARE(view->ne[0], int64_t(16));
    QCOMPARE(view->ne[1], int64_t(16));
    QCOMPARE(view->bytes, uint64_t(1024));

    const SafetensorsTensor* c = file->findTensor("c.bias");
    QVERIFY(c);
    QCOMPARE(c->data.data(), bytes.data() + file->dataOffset() + 1032);
    QCOMPARE(SafetensorsFile::view(*c)->type, TensorType::BF16);
    QCOMPARE(SafetensorsFile::view(*file->findTensor("b.weight"))->type, TensorType::F16);
    QVERIFY(!file->findTensor("missing"));
}

void TestSafetensors::corruptions_data() {
    QTest::addColumn<int>("index");
    const auto all = glassbox::test::safetensorsCorruptions();
    QVERIFY(all.size() >= 12);
    for (size_t i = 0; i < all.size(); ++i) QTest::newRow(all[i].name.c_str()) << int(i);
}

void TestSafetensors::corruptions() {
    QFETCH(int, index);
    const SafetensorsCorruption c = glassbox::test::safetensorsCorruptions()[size_t(index)];

    g_largestAllocation = 0;
    g_trackAllocations = true;
    const auto start = std::chrono::steady_clock::now();
    auto file = SafetensorsFile::parse(span(c.bytes));
    const auto elapsed = std::chrono::steady_clock::now() - start;
    g_trackAllocations = false;

    QVERIFY2(!file.ok(), "corruption was accepted");
    const Error& e = file.error();
    const QByteArray what = QByteArray::fromStdString(e.toString());
    QVERIFY2(e.code == c.expectedCode,
             qPrintable(QString("expected %1, got %2")
                            .arg(errorCodeName(c.expectedCode), QString::fromUtf8(what))));
    QVERIFY2(e.field.find(c.expectedField) != std::string::npos,
             qPrintable("field should contain '" + QString::fromStdString(c.expectedField) +
                        "': " + QString::fromUtf8(what)));
    QVERIFY2(e.offset != kNoOffset, what.constData());
    QVERIFY2(e.offset <= c.bytes.size(), what.constData());
    QVERIFY2(elapsed < std::chrono::milliseconds(50), what.constData());
    QVERIFY2(g_largestAllocation.load() <= std::max<size_t>(c.bytes.size(), 64),
             qPrintable(QString("largest allocation %1 bytes for a %2-byte input")
                            .arg(g_largestAllocation.load())
                            .arg(c.bytes.size())));
}

void TestSafetensors::prefixesAndByteFlipsNeverCrash() {
    const auto bytes = glassbox::test::validSafetensorsBase();
    for (size_t n = 0; n < bytes.size(); ++n) {
        std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + ptrdiff_t(n));
        auto file = SafetensorsFile::parse(span(prefix));
        QVERIFY2(!file.ok(), qPrintable(QString("prefix of %1 bytes accepted").arg(n)));
        QVERIFY(file.error().offset != kNoOffset);
    }
    int accepted = 0;
    for (size_t i = 0; i < bytes.size(); ++i) {
        for (uint8_t flip : {uint8_t(0x01), uint8_t(0x80), uint8_t(0xFF)}) {
            std::vector<uint8_t> mutated = bytes;
            mutated[i] ^= flip;
            auto file = SafetensorsFile::parse(span(mutated));
            if (!file.ok()) continue;
            ++accepted;  // e.g. a flipped data byte: every tensor still inside the file
            for (const auto& t : file->tensors())
                QVERIFY(t.data.data() >= mutated.data() &&
                        t.data.data() + t.data.size() <= mutated.data() + mutated.size());
        }
    }
    QVERIFY(accepted > 0);
}

void TestSafetensors::emptyHeaderIsValid() {
    const auto bytes = glassbox::test::makeSafetensorsBytes("{}", {});
    auto file = SafetensorsFile::parse(span(bytes));
    QVERIFY(file.ok());
    QVERIFY(file->tensors().empty());
    const auto nullMeta = glassbox::test::makeSafetensorsBytes(R"({"__metadata__":null})", {});
    QVERIFY(SafetensorsFile::parse(span(nullMeta)).ok());
}

void TestSafetensors::viewDims() {
    SafetensorsTensor t;
    t.name = "x";
    t.dtype = SafetensorsDtype::F16;
    t.shape = {1, 1, 2, 3, 4, 5};
    auto v = SafetensorsFile::view(t);
    QVERIFY(v.ok());
    QCOMPARE(v->nDims, 4);
    QCOMPARE(v->ne[0], int64_t(5));
    QCOMPARE(v->ne[3], int64_t(2));
    t.shape = {2, 1, 2, 3, 4};
    QCOMPARE(SafetensorsFile::view(t).error().code, ErrorCode::Unsupported);
    t.shape = {};
    v = SafetensorsFile::view(t);
    QVERIFY(v.ok());
    QCOMPARE(v->nDims, 0);
    QCOMPARE(v->elements(), int64_t(1));
    t.shape = {4};
    t.dtype = SafetensorsDtype::I64;
    QCOMPARE(SafetensorsFile::view(t).error().code, ErrorCode::Unsupported);
}

void TestSafetensors::writerRoundTrip() {
    std::vector<float> f32 = {1.5f, -2.0f, 3.25f, 0.0f, 1e-3f, 7.0f};
    std::vector<uint16_t> f16 = {floatToFp16(1.0f), floatToFp16(-0.5f), floatToFp16(2.0f)};
    std::vector<uint16_t> bf16 = {floatToBf16(3.0f), floatToBf16(-4.0f)};
    std::vector<uint8_t> flags = {1, 0, 1};
    auto bytesOf = [](const auto& v) {
        return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(v.data()),
                                        v.size() * sizeof(v[0]));
    };
    std::vector<SafetensorsWriteTensor> tensors = {
        {"f16", SafetensorsDtype::F16, {3}, bytesOf(f16)},
        {"flags", SafetensorsDtype::Bool, {3}, bytesOf(flags)},
        {"layer.0.weight", SafetensorsDtype::F32, {2, 3}, bytesOf(f32)},
        {"bf16", SafetensorsDtype::BF16, {1, 2}, bytesOf(bf16)},
    };
    auto out = serializeSafetensors(tensors, {{"format", "pt"}, {"quote\"key", "line\nbreak"}});
    QVERIFY2(out.ok(), out.ok() ? "" : out.error().toString().c_str());
    auto file = SafetensorsFile::parse(span(*out));
    QVERIFY2(file.ok(), file.ok() ? "" : file.error().toString().c_str());
    QCOMPARE(file->tensors().size(), tensors.size());
    for (const auto& w : tensors) {
        const SafetensorsTensor* t = file->findTensor(w.name);
        QVERIFY(t);
        QCOMPARE(t->dtype, w.dtype);
        QCOMPARE(t->shape, w.shape);
        QVERIFY(std::equal(t->data.begin(), t->data.end(), w.data.begin(), w.data.end()));
        QCOMPARE(uint64_t(t->data.data() - out->data()) % (safetensorsDtypeBits(t->dtype) / 8),
                 uint64_t(0));
    }
    QCOMPARE(file->metadataValue("quote\"key").value_or(""), std::string_view("line\nbreak"));
    QCOMPARE(f32At(*file->findTensor("layer.0.weight"), 2), 3.25f);
    QCOMPARE(fp16ToFloat(u16At(*file->findTensor("f16"), 1)), -0.5f);
    // Largest element size first: the F32 tensor starts the data buffer.
    QCOMPARE(file->findTensor("layer.0.weight")->begin, uint64_t(0));
}

void TestSafetensors::writerPaddingAndFile() {
    std::vector<uint8_t> data(7 * 4, 0x11);
    std::vector<SafetensorsWriteTensor> tensors = {{"w", SafetensorsDtype::F32, {7}, data}};
    auto out = serializeSafetensors(tensors);
    QVERIFY(out.ok());
    uint64_t n = 0;
    std::memcpy(&n, out->data(), 8);
    QCOMPARE(n % 8, uint64_t(0));
    const std::string header(reinterpret_cast<const char*>(out->data() + 8), n);
    QVERIFY(header.find("__metadata__") == std::string::npos);
    QVERIFY(header.back() == '}' || header.back() == ' ');
    QVERIFY(parseJson(header).ok());

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string path = (dir.path() + "/w.safetensors").toStdString();
    QVERIFY(writeSafetensorsFile(path, tensors, {{"k", "v"}}).ok());
    auto mapped = MappedFile::open(path);
    QVERIFY(mapped.ok());
    auto file = SafetensorsFile::parse(mapped->bytes());
    QVERIFY(file.ok());
    QCOMPARE(file->metadataValue("k").value_or(""), std::string_view("v"));
    QVERIFY(!QFile::exists(QString::fromStdString(path + ".tmp")));
    QCOMPARE(writeSafetensorsFile(dir.path().toStdString() + "/no/such/dir/x.safetensors", tensors)
                 .error()
                 .code,
             ErrorCode::Io);
}

void TestSafetensors::writerRejects() {
    std::vector<uint8_t> data(8);
    std::vector<SafetensorsWriteTensor> dup = {{"a", SafetensorsDtype::F32, {2}, data},
                                               {"a", SafetensorsDtype::F32, {2}, data}};
    QCOMPARE(serializeSafetensors(dup).error().code, ErrorCode::InvalidArgument);
    std::vector<SafetensorsWriteTensor> mismatch = {{"a", SafetensorsDtype::F32, {3}, data}};
    QCOMPARE(serializeSafetensors(mismatch).error().code, ErrorCode::InvalidArgument);
    std::vector<SafetensorsWriteTensor> reserved = {
        {"__metadata__", SafetensorsDtype::U8, {8}, data}};
    QCOMPARE(serializeSafetensors(reserved).error().code, ErrorCode::InvalidArgument);
    std::vector<SafetensorsWriteTensor> overflow = {
        {"a", SafetensorsDtype::F32, {uint64_t(1) << 40, uint64_t(1) << 40}, data}};
    QCOMPARE(serializeSafetensors(overflow).error().code, ErrorCode::InvalidArgument);
}

void TestSafetensors::referenceFile() {
    if (qEnvironmentVariableIsEmpty("GLASSBOX_TEST_DATA_DIR"))
        QSKIP("GLASSBOX_TEST_DATA_DIR is not set");
    QFile f(dataPath("reference.safetensors"));
    QVERIFY2(f.open(QIODevice::ReadOnly), qPrintable(f.fileName()));
    const QByteArray raw = f.readAll();
    std::vector<uint8_t> bytes(raw.begin(), raw.end());
    auto file = SafetensorsFile::parse(span(bytes));
    QVERIFY2(file.ok(), file.ok() ? "" : file.error().toString().c_str());
    QCOMPARE(file->tensors().size(), size_t(7));
    QCOMPARE(file->metadataValue("format").value_or(""), std::string_view("np"));
    QCOMPARE(file->metadataValue("note").value_or(""), std::string_view("reference \u00e9\u4e2d"));

    const SafetensorsTensor* emb = file->findTensor("model.embed_tokens.weight");
    QVERIFY(emb);
    QCOMPARE(emb->shape, (std::vector<uint64_t>{3, 4}));
    for (size_t i = 0; i < 12; ++i) QCOMPARE(f32At(*emb, i), float(i) * 0.5f - 1.0f);
    QCOMPARE(SafetensorsFile::view(*emb)->ne[0], int64_t(4));

    const SafetensorsTensor* norm = file->findTensor("model.norm.weight");
    QVERIFY(norm && norm->dtype == SafetensorsDtype::F16);
    const float normExpected[] = {1.0f, -2.0f, 0.5f, 65504.0f, 6.103515625e-05f, -0.0f};
    for (size_t i = 0; i < 6; ++i) QCOMPARE(fp16ToFloat(u16At(*norm, i)), normExpected[i]);

    const SafetensorsTensor* head = file->findTensor("lm_head.weight");
    QVERIFY(head && head->dtype == SafetensorsDtype::BF16);
    const float headExpected[] = {1.0f, -1.5f, 3.140625f, 0.0f, 256.0f, -0.0078125f};
    for (size_t i = 0; i < 6; ++i) QCOMPARE(bf16ToFloat(u16At(*head, i)), headExpected[i]);

    const SafetensorsTensor* ids = file->findTensor("token_ids");
    QVERIFY(ids && ids->dtype == SafetensorsDtype::I64);
    int64_t id2;
    std::memcpy(&id2, ids->data.data() + 16, 8);
    QCOMPARE(id2, int64_t(1) << 40);
    QCOMPARE(SafetensorsFile::view(*ids).error().code, ErrorCode::Unsupported);

    const SafetensorsTensor* scale = file->findTensor("scale");
    QVERIFY(scale && scale->shape.empty());
    QCOMPARE(f32At(*scale, 0), 42.0f);
    QCOMPARE(file->findTensor("mask")->dtype, SafetensorsDtype::Bool);
    QCOMPARE(file->findTensor("empty")->data.size(), size_t(0));

    // Re-serializing with the engine writer gives the same tensors back.
    std::vector<SafetensorsWriteTensor> copies;
    for (const auto& t : file->tensors()) copies.push_back({t.name, t.dtype, t.shape, t.data});
    auto again = serializeSafetensors(copies, file->metadata());
    QVERIFY(again.ok());
    auto reread = SafetensorsFile::parse(span(*again));
    QVERIFY(reread.ok());
    for (const auto& t : file->tensors()) {
        const auto* u = reread->findTensor(t.name);
        QVERIFY(u && u->shape == t.shape && u->dtype == t.dtype);
        QVERIFY(std::equal(t.data.begin(), t.data.end(), u->data.begin(), u->data.end()));
    }
}

void TestSafetensors::shardIndex() {
    const char* json = R"({
      "metadata": {"total_size": 13476839424},
      "weight_map": {
        "lm_head.weight": "model-00002-of-00002.safetensors",
        "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
        "model.layers.0.mlp.down_proj.weight": "model-00001-of-00002.safetensors",
        "model.norm.weight": "model-00002-of-00002.safetensors"
      }
    })";
    auto index = parseSafetensorsIndex(json);
    QVERIFY2(index.ok(), index.ok() ? "" : index.error().toString().c_str());
    QCOMPARE(index->shards, (std::vector<std::string>{"model-00002-of-00002.safetensors",
                                                      "model-00001-of-00002.safetensors"}));
    QCOMPARE(index->weightMap.size(), size_t(4));
    QCOMPARE(index->totalSize.value_or(0), uint64_t(13476839424));

    QCOMPARE(parseSafetensorsIndex(R"({"metadata":{}})").error().code, ErrorCode::Malformed);
    QCOMPARE(parseSafetensorsIndex(R"({"weight_map":{"a":1}})").error().code, ErrorCode::Malformed);
    QCOMPARE(parseSafetensorsIndex("[]").error().code, ErrorCode::Malformed);
    QCOMPARE(parseSafetensorsIndex(R"({"weight_map":{"a":"x")").error().code, ErrorCode::Truncated);
    auto traversal = parseSafetensorsIndex(R"({"weight_map":{"w":"../../etc/passwd"}})");
    QVERIFY(!traversal.ok());
    QCOMPARE(traversal.error().code, ErrorCode::Malformed);
    QCOMPARE(QString::fromStdString(traversal.error().field), QString("$.weight_map.w"));

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QFile f(dir.path() + "/model.safetensors.index.json");
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(json);
    f.close();
    auto read = readSafetensorsIndexFile(f.fileName().toStdString());
    QVERIFY(read.ok());
    QCOMPARE(read->shards.size(), size_t(2));
    QCOMPARE(readSafetensorsIndexFile("/nonexistent/index.json").error().code, ErrorCode::Io);
}

void TestSafetensors::shardNames() {
    QVERIFY(isSafeShardName("model-00001-of-00002.safetensors"));
    QVERIFY(isSafeShardName("..model.safetensors"));
    for (const char* bad : {"", ".", "..", "../x.safetensors", "a/b.safetensors",
                            "/abs.safetensors", "..\\x.safetensors", "C:x.safetensors", "a\nb"})
        QVERIFY2(!isSafeShardName(bad), bad);
}

QTEST_GUILESS_MAIN(TestSafetensors)
#include "tst_safetensors.moc"
