// GgufFile::parse against every hand-made corruption (typed error, field,
// offset, time, and the largest single allocation it makes), against every
// truncation and single-byte change of a valid file, and on valid files:
// all value types, nested arrays, alignment, v2 headers, accessors.
#include <QtTest>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <new>
#include <set>

#include "engine/gguf_file.h"
#include "engine/gguf_writer.h"
#include "support/gguf_corruptions.h"

using namespace glassbox::engine;
using glassbox::test::makeGgufCorruptions;
using glassbox::test::makeTinyGguf;

// --- allocation tracking: the largest single operator new while enabled ---

namespace {
thread_local bool t_tracking = false;
thread_local size_t t_largest = 0;

void* trackedAlloc(std::size_t n) {
    if (t_tracking && n > t_largest) t_largest = n;
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}

// Runs f with tracking on; returns the largest allocation it made.
template <class F>
size_t largestAllocation(F&& f) {
    t_largest = 0;
    t_tracking = true;
    f();
    t_tracking = false;
    return t_largest;
}

// Error text (message and field) may exceed a tiny input's size.
constexpr size_t kErrorTextAllowance = 256;
}  // namespace

void* operator new(std::size_t n) { return trackedAlloc(n); }
void* operator new[](std::size_t n) { return trackedAlloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

std::span<const uint8_t> spanOf(const std::vector<uint8_t>& v) { return {v.data(), v.size()}; }

// The parsed file points into `bytes`, which must outlive it.
GgufFile parseOk(std::vector<uint8_t>&&) = delete;
GgufFile parseOk(const std::vector<uint8_t>& bytes) {
    auto r = GgufFile::parse(spanOf(bytes));
    if (!r.ok()) qFatal("parse failed: %s", r.error().toString().c_str());
    return std::move(r).value();
}

}  // namespace

class TestGgufReader : public QObject {
    Q_OBJECT
private slots:
    void corruptions_data();
    void corruptions();
    void corruptionNamesAreUnique();
    void everyTruncationFails();
    void everyByteChangeIsHandled();
    void tinyFileValues();
    void tinyFileTensors();
    void allArrayTypesRoundTrip();
    void nestedArrays();
    void alignmentHandling_data();
    void alignmentHandling();
    void defaultAlignment();
    void version2File();
    void emptyAndZeroSized();
    void accessorTypeMismatches();
    void displayStrings();
    void errorOffsets();
};

void TestGgufReader::corruptions_data() {
    QTest::addColumn<int>("index");
    const auto cases = makeGgufCorruptions();
    QVERIFY(cases.size() >= 30);
    for (size_t k = 0; k < cases.size(); ++k) QTest::newRow(cases[k].name.c_str()) << int(k);
}

void TestGgufReader::corruptions() {
    QFETCH(int, index);
    static const auto cases = makeGgufCorruptions();
    const auto& c = cases[size_t(index)];
    std::optional<Result<GgufFile>> result;
    const auto start = std::chrono::steady_clock::now();
    const size_t largest = largestAllocation([&] { result.emplace(GgufFile::parse(spanOf(c.bytes))); });
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

    QVERIFY2(!result->ok(), c.name.c_str());
    const Error& e = result->error();
    const QByteArray detail = QByteArray::fromStdString(e.toString());
    QVERIFY2(e.code == c.expectedCode, detail + " / expected " + errorCodeName(c.expectedCode));
    QVERIFY2(!e.field.empty(), detail);
    QVERIFY2(e.field.find(c.expectedField) != std::string::npos,
             detail + " / expected field containing " + QByteArray::fromStdString(c.expectedField));
    QVERIFY2(e.offset != kNoOffset, detail);
    QVERIFY2(e.offset <= c.bytes.size() || c.bytes.empty(), detail);
    QVERIFY2(!e.message.empty(), detail);
    QVERIFY2(ms < 50.0, QByteArray::number(ms) + " ms");
    QVERIFY2(largest <= std::max(c.bytes.size(), kErrorTextAllowance),
             QByteArray::number(qulonglong(largest)) + " bytes allocated for a " +
                 QByteArray::number(qulonglong(c.bytes.size())) + "-byte input");
}

void TestGgufReader::corruptionNamesAreUnique() {
    const auto cases = makeGgufCorruptions();
    std::set<std::string> names;
    for (const auto& c : cases) QVERIFY2(names.insert(c.name).second, c.name.c_str());
}

void TestGgufReader::everyTruncationFails() {
    const auto base = makeTinyGguf();
    for (size_t n = 0; n < base.size(); ++n) {
        const std::vector<uint8_t> cut(base.begin(), base.begin() + std::ptrdiff_t(n));
        std::optional<Result<GgufFile>> r;
        const size_t largest = largestAllocation([&] { r.emplace(GgufFile::parse(spanOf(cut))); });
        QVERIFY2(!r->ok(), qPrintable(QString("length %1 parsed").arg(n)));
        QVERIFY(!r->error().field.empty());
        QVERIFY(r->error().offset != kNoOffset);
        QVERIFY(r->error().code == ErrorCode::Truncated || r->error().code == ErrorCode::Overflow);
        QVERIFY(largest <= std::max(n, kErrorTextAllowance));
    }
}

void TestGgufReader::everyByteChangeIsHandled() {
    const auto base = makeTinyGguf();
    const uint8_t replacements[] = {0x00, 0x01, 0x7f, 0x80, 0xff};
    int failures = 0;
    for (size_t pos = 0; pos < base.size(); ++pos) {
        for (uint8_t b : replacements) {
            if (base[pos] == b) continue;
            auto bytes = base;
            bytes[pos] = b;
            std::optional<Result<GgufFile>> r;
            const size_t largest = largestAllocation([&] { r.emplace(GgufFile::parse(spanOf(bytes))); });
            if (r->ok()) {
                for (const auto& [key, value] : r->value().metadata()) (void)value.toDisplayString();
                continue;
            }
            ++failures;
            QVERIFY(!r->error().field.empty());
            QVERIFY(r->error().offset != kNoOffset);
            QVERIFY(largest <= std::max(bytes.size(), kErrorTextAllowance));
        }
    }
    QVERIFY(failures > 0);
}

void TestGgufReader::tinyFileValues() {
    const auto bytes = makeTinyGguf();
    const GgufFile f = parseOk(bytes);
    QCOMPARE(f.version(), 3u);
    QCOMPARE(f.alignment(), 32u);
    QCOMPARE(f.metadata().size(), size_t(17));
    QCOMPARE(f.getString("general.architecture"), std::optional<std::string>("llama"));
    QCOMPARE(f.getInt("test.u8"), std::optional<int64_t>(200));
    QCOMPARE(f.getInt("test.i8"), std::optional<int64_t>(-100));
    QCOMPARE(f.getInt("test.u16"), std::optional<int64_t>(60000));
    QCOMPARE(f.getInt("test.i16"), std::optional<int64_t>(-30000));
    QCOMPARE(f.getInt("test.u32"), std::optional<int64_t>(4000000000LL));
    QCOMPARE(f.getInt("test.i32"), std::optional<int64_t>(-2000000000));
    QCOMPARE(f.getFloat("test.f32"), std::optional<double>(1.5));
    QCOMPARE(f.getBool("test.bool"), std::optional<bool>(true));
    QVERIFY(!f.getInt("test.u64"));  // 2^63 does not fit int64
    QCOMPARE(f.find("test.u64")->u, uint64_t(1) << 63);
    QCOMPARE(f.getFloat("test.u64"), std::optional<double>(9223372036854775808.0));
    QCOMPARE(f.getInt("test.i64"), std::optional<int64_t>(int64_t(-1) << 62));
    QCOMPARE(f.getFloat("test.f64"), std::optional<double>(2.25));
    QCOMPARE(f.getStringArray("test.strs"), std::optional(std::vector<std::string>{"alpha", "be", "c"}));
    QCOMPARE(f.getIntArray("test.ints"), std::optional(std::vector<int64_t>{1, -2, 3, 4}));
    QCOMPARE(f.find("test.strs")->arrayString(1), std::optional<std::string_view>("be"));
    QVERIFY(!f.find("test.strs")->arrayString(3));
    QVERIFY(f.getString("general.description")->size() >= 320);
    QVERIFY(!f.find("missing"));
    QVERIFY(!f.getInt("missing"));
    // Metadata keeps file order.
    QCOMPARE(f.metadata().front().first, std::string("general.architecture"));
    QCOMPARE(f.metadata().back().first, std::string("test.ints"));
}

void TestGgufReader::tinyFileTensors() {
    const auto bytes = makeTinyGguf();
    const GgufFile f = parseOk(bytes);
    QCOMPARE(f.tensors().size(), size_t(4));
    QCOMPARE(f.dataOffset() % 32, uint64_t(0));
    const GgufTensorInfo* q40 = f.findTensor("t.q40");
    QVERIFY(q40);
    QCOMPARE(q40->type, TensorType::Q4_0);
    QCOMPARE(q40->nDims, 2);
    QCOMPARE(q40->ne[0], int64_t(64));
    QCOMPARE(q40->ne[1], int64_t(2));
    QCOMPARE(q40->bytes, uint64_t(72));
    const GgufTensorInfo* q80 = f.findTensor("t.q80");
    QCOMPARE(q80->nDims, 4);
    QCOMPARE(q80->ne[3], int64_t(2));
    QCOMPARE(q80->bytes, uint64_t(68));
    uint64_t end = 0;
    for (const auto& t : f.tensors()) {
        QCOMPARE(t.offset % 32, uint64_t(0));
        QVERIFY(t.offset >= end);
        end = t.offset + t.bytes;
        const TensorView v = f.view(t);
        QVERIFY(v.data);
        QCOMPARE(v.bytes, t.bytes);
        QCOMPARE(v.name, t.name);
        QVERIFY(v.data + v.bytes <= bytes.data() + bytes.size());
    }
    // The data written for t.f32 was 1, 8, 15, ... (see gguf_corruptions.cpp).
    const TensorView f32 = f.view(*f.findTensor("t.f32"));
    QCOMPARE(int(f32.data[0]), 1);
    QCOMPARE(int(f32.data[1]), 8);
    QCOMPARE(f32.elements(), int64_t(32));
    QVERIFY(!f.findTensor("missing"));
    GgufTensorInfo foreign = *q40;
    foreign.offset = uint64_t(1) << 40;
    QVERIFY(!f.view(foreign).data);
}

void TestGgufReader::allArrayTypesRoundTrip() {
    GgufWriter w;
    w.setArray("u8", std::vector<uint8_t>{0, 255});
    w.setArray("i8", std::vector<int8_t>{-128, 127});
    w.setArray("u16", std::vector<uint16_t>{0, 65535});
    w.setArray("i16", std::vector<int16_t>{-32768, 32767});
    w.setArray("u32", std::vector<uint32_t>{0, 4294967295u});
    w.setArray("i32", std::vector<int32_t>{-2147483647 - 1, 2147483647});
    w.setArray("f32", std::vector<float>{-1.5f, 3.25f});
    const bool flags[] = {true, false, true};
    w.setArray("bool", std::span<const bool>(flags));
    w.setArray("u64", std::vector<uint64_t>{0, uint64_t(1) << 40});
    w.setArray("u64big", std::vector<uint64_t>{~uint64_t(0)});
    w.setArray("i64", std::vector<int64_t>{INT64_MIN, INT64_MAX});
    w.setArray("f64", std::vector<double>{1e300, -0.5});
    w.setArray("str", std::vector<std::string>{"", "x", std::string("a\0b", 3)});
    w.setArray("empty", std::vector<float>{});
    const auto bytes = w.writeToBuffer().value();
    const GgufFile f = parseOk(bytes);
    QCOMPARE(f.getIntArray("u8"), std::optional(std::vector<int64_t>{0, 255}));
    QCOMPARE(f.getIntArray("i8"), std::optional(std::vector<int64_t>{-128, 127}));
    QCOMPARE(f.getIntArray("u16"), std::optional(std::vector<int64_t>{0, 65535}));
    QCOMPARE(f.getIntArray("i16"), std::optional(std::vector<int64_t>{-32768, 32767}));
    QCOMPARE(f.getIntArray("u32"), std::optional(std::vector<int64_t>{0, 4294967295LL}));
    QCOMPARE(f.getIntArray("i32"), std::optional(std::vector<int64_t>{-2147483648LL, 2147483647}));
    QCOMPARE(f.getFloatArray("f32"), std::optional(std::vector<float>{-1.5f, 3.25f}));
    QCOMPARE(f.getIntArray("bool"), std::optional(std::vector<int64_t>{1, 0, 1}));
    QCOMPARE(f.find("bool")->arrayItem(1)->type, GgufValueType::Bool);
    QCOMPARE(f.getIntArray("u64"), std::optional(std::vector<int64_t>{0, int64_t(1) << 40}));
    QVERIFY(!f.getIntArray("u64big"));
    QCOMPARE(f.find("u64big")->arrayItem(0)->u, ~uint64_t(0));
    QCOMPARE(f.getIntArray("i64"), std::optional(std::vector<int64_t>{INT64_MIN, INT64_MAX}));
    QCOMPARE(f.find("f64")->arrayItem(0)->f, 1e300);
    QCOMPARE(f.getFloatArray("f64")->at(1), -0.5f);
    QCOMPARE(f.getStringArray("str"), std::optional(std::vector<std::string>{"", "x", std::string("a\0b", 3)}));
    QCOMPARE(f.find("empty")->arraySize(), uint64_t(0));
    QCOMPARE(f.getFloatArray("empty"), std::optional(std::vector<float>{}));
    QCOMPARE(f.find("f32")->arrayType, GgufValueType::Float32);
    QCOMPARE(f.find("f32")->arrayBytes().size(), size_t(8));
}

void TestGgufReader::nestedArrays() {
    const uint8_t leaf[] = {7, 8};
    GgufValue v = GgufValue::ofArray<uint8_t>(leaf);
    for (int level = 1; level < kGgufMaxArrayDepth; ++level) v = GgufValue::ofArrays(std::span(&v, 1)).value();
    GgufWriter w;
    w.set("deep", v);
    const auto bytes = w.writeToBuffer().value();
    const GgufFile f = parseOk(bytes);
    std::optional<GgufValue> item = *f.find("deep");
    for (int level = 1; level < kGgufMaxArrayDepth; ++level) {
        QCOMPARE(item->arrayType, GgufValueType::Array);
        QCOMPARE(item->arraySize(), uint64_t(1));
        item = item->arrayItem(0);
        QVERIFY(item);
    }
    QCOMPARE(item->toIntArray(), std::optional(std::vector<int64_t>{7, 8}));
    QCOMPARE(f.find("deep")->toDisplayString(), std::string("[[[[7, 8]]]]"));
    QVERIFY(!f.find("deep")->arrayItem(1));
    QVERIFY(!f.getIntArray("deep"));
    QVERIFY(GgufValue::ofArrays(std::span<const GgufValue>(f.find("deep"), 1)).ok());
    const GgufValue scalar = GgufValue::of(uint8_t(1));
    QCOMPARE(GgufValue::ofArrays(std::span(&scalar, 1)).error().code, ErrorCode::InvalidArgument);
}

void TestGgufReader::alignmentHandling_data() {
    QTest::addColumn<uint32_t>("alignment");
    for (uint32_t a : {1u, 8u, 64u, 4096u, kGgufMaxAlignment}) QTest::newRow(std::to_string(a).c_str()) << a;
}

void TestGgufReader::alignmentHandling() {
    QFETCH(uint32_t, alignment);
    GgufWriter w;
    QVERIFY(w.setAlignment(alignment).ok());
    const std::vector<uint8_t> a(12, 1), b(20, 2);
    QVERIFY(w.addTensor("a", TensorType::F32, {3}, a).ok());
    QVERIFY(w.addTensor("b", TensorType::F16, {10}, b).ok());
    const auto bytes = w.writeToBuffer().value();
    const GgufFile f = parseOk(bytes);
    QCOMPARE(f.alignment(), alignment);
    QCOMPARE(f.getInt("general.alignment"), std::optional<int64_t>(alignment));
    QCOMPARE(f.dataOffset() % alignment, uint64_t(0));
    for (const auto& t : f.tensors()) QCOMPARE(t.offset % alignment, uint64_t(0));
    QCOMPARE(int(f.view(f.tensors()[1]).data[0]), 2);
    QCOMPARE(bytes.size() % alignment, size_t(0));
}

void TestGgufReader::defaultAlignment() {
    GgufWriter w;
    const std::vector<uint8_t> a(4, 1), b(4, 2);
    QVERIFY(w.addTensor("a", TensorType::F32, {1}, a).ok());
    QVERIFY(w.addTensor("b", TensorType::F32, {1}, b).ok());
    const auto bytes = w.writeToBuffer().value();
    const GgufFile f = parseOk(bytes);
    QCOMPARE(f.alignment(), kGgufDefaultAlignment);
    QVERIFY(!f.find("general.alignment"));
    QCOMPARE(f.tensors()[1].offset, uint64_t(32));
}

void TestGgufReader::version2File() {
    auto bytes = makeTinyGguf();
    bytes[4] = 2;
    const GgufFile f = parseOk(bytes);
    QCOMPARE(f.version(), 2u);
    QCOMPARE(f.tensors().size(), size_t(4));
}

void TestGgufReader::emptyAndZeroSized() {
    GgufWriter empty;
    const auto headerOnly = empty.writeToBuffer().value();
    QCOMPARE(headerOnly.size(), size_t(32));
    const GgufFile e = parseOk(headerOnly);
    QVERIFY(e.metadata().empty());
    QVERIFY(e.tensors().empty());
    // A file without tensors may stop right after its metadata.
    GgufWriter w;
    w.set("k", "v");
    auto bytes = w.writeToBuffer().value();
    bytes.resize(24 + 8 + 1 + 4 + 8 + 1);
    QVERIFY(GgufFile::parse(spanOf(bytes)).ok());
    // Zero-sized tensors have no data and overlap nothing.
    GgufWriter z;
    QVERIFY(z.addTensor("zero", TensorType::Q4_0, {0, 5}, {}).ok());
    const std::vector<uint8_t> one(4, 9);
    QVERIFY(z.addTensor("one", TensorType::F32, {1}, one).ok());
    const auto zb = z.writeToBuffer().value();
    const GgufFile zf = parseOk(zb);
    QCOMPARE(zf.findTensor("zero")->bytes, uint64_t(0));
    QVERIFY(!zf.view(*zf.findTensor("zero")).data);
    QCOMPARE(int(zf.view(*zf.findTensor("one")).data[0]), 9);
}

void TestGgufReader::accessorTypeMismatches() {
    const auto bytes = makeTinyGguf();
    const GgufFile f = parseOk(bytes);
    QVERIFY(!f.getString("test.u8"));
    QVERIFY(!f.getBool("test.u8"));
    QVERIFY(!f.getInt("general.architecture"));
    QVERIFY(!f.getFloat("general.architecture"));
    QVERIFY(!f.getStringArray("test.ints"));
    QVERIFY(!f.getFloatArray("test.ints"));
    QVERIFY(!f.getIntArray("test.strs"));
    QVERIFY(!f.getIntArray("test.u8"));
    QVERIFY(!f.find("test.u8")->arrayItem(0));
    QVERIFY(!f.find("test.ints")->arrayString(0));
    QCOMPARE(f.getInt("test.bool"), std::optional<int64_t>(1));
    QCOMPARE(f.find("test.nest")->arrayItem(1)->toStringArray(), std::optional(std::vector<std::string>{"x", "yz"}));
}

void TestGgufReader::displayStrings() {
    const auto bytes = makeTinyGguf();
    const GgufFile f = parseOk(bytes);
    QCOMPARE(f.find("test.i8")->toDisplayString(), std::string("-100"));
    QCOMPARE(f.find("test.u64")->toDisplayString(), std::string("9223372036854775808"));
    QCOMPARE(f.find("test.bool")->toDisplayString(), std::string("true"));
    QCOMPARE(f.find("test.f32")->toDisplayString(), std::string("1.5"));
    QCOMPARE(f.find("general.architecture")->toDisplayString(), std::string("\"llama\""));
    QCOMPARE(f.find("test.strs")->toDisplayString(), std::string("[\"alpha\", \"be\", \"c\"]"));
    QCOMPARE(f.find("test.ints")->toDisplayString(2), std::string("[1, -2, ...] (4 items)"));
    QCOMPARE(f.find("test.ints")->toDisplayString(0), std::string("[...] (4 items)"));
    QCOMPARE(f.find("test.nest")->toDisplayString(), std::string("[[1, 2, 3], [\"x\", \"yz\"]]"));
    QCOMPARE(GgufValue::ofString("a\"\n\x01").toDisplayString(), std::string("\"a\\\"\\n\\x01\""));
    const std::string longText(1000, 'z');
    QVERIFY(GgufValue::ofString(longText).toDisplayString().size() < 300);
    QCOMPARE(std::string(ggufValueTypeName(GgufValueType::Float64)), std::string("float64"));
    QCOMPARE(std::string(ggufValueTypeName(GgufValueType(77))), std::string("unknown"));
}

void TestGgufReader::errorOffsets() {
    for (const auto& c : makeGgufCorruptions()) {
        const auto r = GgufFile::parse(spanOf(c.bytes));
        if (c.name == "bad_magic") QCOMPARE(r.error().offset, uint64_t(0));
        if (c.name == "version_99") QCOMPARE(r.error().offset, uint64_t(4));
        if (c.name == "tensor_count_huge") QCOMPARE(r.error().offset, uint64_t(8));
        if (c.name == "kv_count_huge") QCOMPARE(r.error().offset, uint64_t(16));
        if (c.name == "truncated_kv_count") QCOMPARE(r.error().offset, uint64_t(16));
    }
}

QTEST_GUILESS_MAIN(TestGgufReader)
#include "tst_gguf_reader.moc"
