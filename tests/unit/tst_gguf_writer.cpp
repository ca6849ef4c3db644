// GgufWriter: metadata setters and replacement, tensor validation, the three
// ways of supplying tensor data, alignment, byte-exact layout, file output
// (including failures, which must leave no file behind) and copying a
// parsed file's metadata and tensors into a new one.
#include <QtTest>

#include <QTemporaryDir>
#include <cstring>
#include <fstream>
#include <iterator>

#include "engine/gguf_file.h"
#include "engine/gguf_writer.h"
#include "engine/mapped_file.h"
#include "support/gguf_corruptions.h"

using namespace glassbox::engine;

namespace {

// The parsed file points into `bytes`, which must outlive it.
GgufFile parseOk(std::vector<uint8_t>&&) = delete;
GgufFile parseOk(const std::vector<uint8_t>& bytes) {
    auto r = GgufFile::parse({bytes.data(), bytes.size()});
    if (!r.ok()) qFatal("parse failed: %s", r.error().toString().c_str());
    return std::move(r).value();
}

template <class T>
T load(const std::vector<uint8_t>& b, size_t pos) {
    T v{};
    std::memcpy(&v, b.data() + pos, sizeof v);
    return v;
}

}  // namespace

class TestGgufWriter : public QObject {
    Q_OBJECT
private slots:
    void headerLayout();
    void scalarSettersAndReplacement();
    void tensorValidation();
    void tensorDataSources();
    void lazyFillErrorPropagates();
    void alignmentValidation();
    void sizesMatchOutput();
    void writeFileRoundTrip();
    void writeFileFailures();
    void copyParsedFile();
};

void TestGgufWriter::headerLayout() {
    GgufWriter w;
    w.set("a", uint32_t(7));
    const std::vector<uint8_t> data(8, 0xab);
    QVERIFY(w.addTensor("t", TensorType::F32, {2}, data).ok());
    const auto b = w.writeToBuffer().value();
    QCOMPARE(load<uint32_t>(b, 0), kGgufMagic);
    QCOMPARE(std::memcmp(b.data(), "GGUF", 4), 0);
    QCOMPARE(load<uint32_t>(b, 4), 3u);
    QCOMPARE(load<uint64_t>(b, 8), uint64_t(1));   // tensors
    QCOMPARE(load<uint64_t>(b, 16), uint64_t(1));  // KVs
    QCOMPARE(load<uint64_t>(b, 24), uint64_t(1));  // key length
    QCOMPARE(char(b[32]), 'a');
    QCOMPARE(load<uint32_t>(b, 33), uint32_t(GgufValueType::Uint32));
    QCOMPARE(load<uint32_t>(b, 37), 7u);
    // Tensor info: name, n_dims, ne[0], type, offset; then padding to 32.
    QCOMPARE(load<uint64_t>(b, 41), uint64_t(1));
    QCOMPARE(char(b[49]), 't');
    QCOMPARE(load<uint32_t>(b, 50), 1u);
    QCOMPARE(load<int64_t>(b, 54), int64_t(2));
    QCOMPARE(load<uint32_t>(b, 62), uint32_t(TensorType::F32));
    QCOMPARE(load<uint64_t>(b, 66), uint64_t(0));
    QCOMPARE(b.size(), size_t(96 + 32));  // 74 bytes of header padded to 96, 8 bytes of data padded to 32
    QCOMPARE(int(b[96]), 0xab);
    QCOMPARE(int(b[96 + 8]), 0);
}

void TestGgufWriter::scalarSettersAndReplacement() {
    GgufWriter w;
    w.set("s", "first");
    w.set("n", int16_t(-5));
    w.set("s", std::string("second"));  // replaced in place, order kept
    w.set("d", 0.125);
    w.set("b", false);
    QCOMPARE(w.metadataCount(), size_t(4));
    QVERIFY(w.has("n"));
    QVERIFY(w.remove("n"));
    QVERIFY(!w.remove("n"));
    QVERIFY(!w.has("n"));
    const auto bytes = w.writeToBuffer().value();
    const GgufFile f = parseOk(bytes);
    QCOMPARE(f.metadata().size(), size_t(3));
    QCOMPARE(f.metadata()[0].first, std::string("s"));
    QCOMPARE(f.getString("s"), std::optional<std::string>("second"));
    QCOMPARE(f.find("d")->type, GgufValueType::Float64);
    QCOMPARE(f.getFloat("d"), std::optional<double>(0.125));
    QCOMPARE(f.getBool("b"), std::optional<bool>(false));
}

void TestGgufWriter::tensorValidation() {
    GgufWriter w;
    const std::vector<uint8_t> f32x4(16);
    QVERIFY(w.addTensor("ok", TensorType::F32, {4}, f32x4).ok());
    QCOMPARE(w.addTensor("ok", TensorType::F32, {4}, f32x4).error().code, ErrorCode::InvalidArgument);
    QCOMPARE(w.addTensor("", TensorType::F32, {4}, f32x4).error().code, ErrorCode::InvalidArgument);
    QCOMPARE(w.addTensor(std::string(64, 'n'), TensorType::F32, {4}, f32x4).error().code, ErrorCode::InvalidArgument);
    QVERIFY(w.addTensor(std::string(63, 'n'), TensorType::F32, {4}, f32x4).ok());
    QCOMPARE(w.addTensor("size", TensorType::F32, {5}, f32x4).error().code, ErrorCode::InvalidArgument);
    QCOMPARE(w.addTensor("dims0", TensorType::F32, {}, f32x4).error().code, ErrorCode::InvalidArgument);
    QCOMPARE(w.addTensor("dims5", TensorType::F32, {4, 1, 1, 1, 1}, f32x4).error().code, ErrorCode::InvalidArgument);
    QCOMPARE(w.addTensor("neg", TensorType::F32, {4, -1}, f32x4).error().code, ErrorCode::InvalidArgument);
    QCOMPARE(w.addTensor("block", TensorType::Q4_0, {16}, f32x4).error().code, ErrorCode::InvalidArgument);
    QCOMPARE(w.addTensor("type", TensorType(5), {4}, f32x4).error().code, ErrorCode::InvalidArgument);
    QCOMPARE(w.addTensor("huge", TensorType::F32, {int64_t(1) << 62, 1 << 4}, f32x4).error().code,
             ErrorCode::Overflow);
    QCOMPARE(w.addTensorLazy("nofill", TensorType::F32, {4}, {}).error().code, ErrorCode::InvalidArgument);
    QCOMPARE(w.tensorCount(), size_t(2));
}

void TestGgufWriter::tensorDataSources() {
    GgufWriter w;
    const std::vector<uint8_t> borrowed(34, 0x11);  // one Q8_0 block
    QVERIFY(w.addTensor("borrowed", TensorType::Q8_0, {32}, borrowed).ok());
    QVERIFY(w.addTensorOwned("owned", TensorType::Q4_1, {32, 2}, std::vector<uint8_t>(40, 0x22)).ok());
    int calls = 0;
    QVERIFY(w.addTensorLazy("lazy", TensorType::BF16, {3, 2}, [&calls](std::span<uint8_t> out) -> Status {
        ++calls;
        for (size_t k = 0; k < out.size(); ++k) out[k] = uint8_t(k);
        return {};
    }).ok());
    const auto a = w.writeToBuffer().value();
    const auto b = w.writeToBuffer().value();  // writing twice gives the same bytes
    QCOMPARE(a, b);
    QCOMPARE(calls, 2);
    const GgufFile f = parseOk(a);
    const TensorView vb = f.view(*f.findTensor("borrowed"));
    const TensorView vo = f.view(*f.findTensor("owned"));
    const TensorView vl = f.view(*f.findTensor("lazy"));
    QCOMPARE(vb.bytes, uint64_t(34));
    QCOMPARE(vo.bytes, uint64_t(40));
    QCOMPARE(vl.bytes, uint64_t(12));
    QVERIFY(std::all_of(vb.data, vb.data + vb.bytes, [](uint8_t x) { return x == 0x11; }));
    QVERIFY(std::all_of(vo.data, vo.data + vo.bytes, [](uint8_t x) { return x == 0x22; }));
    for (int k = 0; k < 12; ++k) QCOMPARE(int(vl.data[k]), k);
    QCOMPARE(f.findTensor("lazy")->ne[1], int64_t(2));
    // Moving the writer keeps owned data valid.
    GgufWriter moved = std::move(w);
    QCOMPARE(moved.writeToBuffer().value(), a);
}

void TestGgufWriter::lazyFillErrorPropagates() {
    GgufWriter w;
    QVERIFY(w.addTensorLazy("bad", TensorType::F32, {2}, [](std::span<uint8_t>) -> Status {
        return makeError(ErrorCode::Cancelled, "stopped");
    }).ok());
    const auto r = w.writeToBuffer();
    QVERIFY(!r.ok());
    QCOMPARE(r.error().code, ErrorCode::Cancelled);
}

void TestGgufWriter::alignmentValidation() {
    GgufWriter w;
    QCOMPARE(w.alignment(), kGgufDefaultAlignment);
    QCOMPARE(w.setAlignment(0).error().code, ErrorCode::InvalidArgument);
    QCOMPARE(w.setAlignment(48).error().code, ErrorCode::InvalidArgument);
    QCOMPARE(w.setAlignment(kGgufMaxAlignment * 2).error().code, ErrorCode::InvalidArgument);
    QVERIFY(w.setAlignment(256).ok());
    QCOMPARE(w.alignment(), 256u);
    // A general.alignment set by hand with the wrong type is caught at write time.
    w.set("general.alignment", int32_t(64));
    QCOMPARE(w.writeToBuffer().error().code, ErrorCode::InvalidArgument);
    QCOMPARE(w.fileSize().error().code, ErrorCode::InvalidArgument);
    w.set("general.alignment", uint32_t(64));
    QCOMPARE(w.alignment(), 64u);
    QVERIFY(w.writeToBuffer().ok());
}

void TestGgufWriter::sizesMatchOutput() {
    const auto tiny = glassbox::test::makeTinyGguf();
    const GgufFile f = parseOk(tiny);
    GgufWriter w;
    for (const auto& [key, value] : f.metadata()) w.set(key, value);
    for (const auto& t : f.tensors()) {
        const TensorView v = f.view(t);
        QVERIFY(w.addTensor(t.name, t.type, std::vector<int64_t>(t.ne.begin(), t.ne.begin() + t.nDims),
                            {v.data, v.bytes}).ok());
    }
    const auto out = w.writeToBuffer().value();
    QCOMPARE(w.fileSize().value(), uint64_t(out.size()));
    QCOMPARE(w.dataOffset().value(), f.dataOffset());
    QCOMPARE(out, tiny);  // parse + write reproduces the file byte for byte
}

void TestGgufWriter::writeFileRoundTrip() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string path = dir.filePath("model.gguf").toStdString();
    GgufWriter w;
    w.set("general.architecture", "llama");
    const std::vector<uint8_t> data(64, 3);
    QVERIFY(w.addTensor("t", TensorType::F16, {8, 4}, data).ok());
    QVERIFY(w.addTensorLazy("l", TensorType::F32, {4}, [](std::span<uint8_t> out) -> Status {
        std::fill(out.begin(), out.end(), uint8_t(5));
        return {};
    }).ok());
    const Status s = w.writeFile(path);
    QVERIFY2(s.ok(), s.ok() ? "" : s.error().toString().c_str());
    QVERIFY(!QFile::exists(QString::fromStdString(path + ".partial")));
    auto mapped = MappedFile::open(path);
    QVERIFY(mapped.ok());
    const auto r = GgufFile::parse(mapped->bytes());
    QVERIFY(r.ok());
    QCOMPARE(r->getString("general.architecture"), std::optional<std::string>("llama"));
    QCOMPARE(int(r->view(*r->findTensor("l")).data[3]), 5);
    const auto buffer = w.writeToBuffer().value();
    QCOMPARE(std::vector<uint8_t>(mapped->bytes().begin(), mapped->bytes().end()), buffer);
}

void TestGgufWriter::writeFileFailures() {
    QTemporaryDir dir;
    GgufWriter w;
    w.set("k", uint8_t(1));
    const Status missingDir = w.writeFile(dir.filePath("no/such/dir/x.gguf").toStdString());
    QCOMPARE(missingDir.error().code, ErrorCode::Io);
    QVERIFY(!missingDir.error().field.empty());

    const std::string path = dir.filePath("failed.gguf").toStdString();
    QVERIFY(w.addTensorLazy("bad", TensorType::F32, {1}, [](std::span<uint8_t>) -> Status {
        return makeError(ErrorCode::OutOfMemory, "no room");
    }).ok());
    QCOMPARE(w.writeFile(path).error().code, ErrorCode::OutOfMemory);
    QVERIFY(!QFile::exists(QString::fromStdString(path)));
    QVERIFY(!QFile::exists(QString::fromStdString(path + ".partial")));
}

void TestGgufWriter::copyParsedFile() {
    // Metadata values taken from a parsed file (arrays included) outlive the
    // writer's source once set: the writer keeps its own encoding.
    std::vector<uint8_t> out;
    {
        auto source = glassbox::test::makeTinyGguf();
        const GgufFile f = parseOk(source);
        GgufWriter w;
        w.set("copied.strs", *f.find("test.strs"));
        w.set("copied.nest", *f.find("test.nest"));
        w.set("copied.u64", *f.find("test.u64"));
        source.assign(source.size(), 0);  // the writer must not read the source any more
        out = w.writeToBuffer().value();
    }
    const GgufFile g = parseOk(out);
    QCOMPARE(g.getStringArray("copied.strs"), std::optional(std::vector<std::string>{"alpha", "be", "c"}));
    QCOMPARE(g.find("copied.nest")->arrayItem(0)->toIntArray(), std::optional(std::vector<int64_t>{1, 2, 3}));
    QCOMPARE(g.find("copied.u64")->u, uint64_t(1) << 63);
}

QTEST_GUILESS_MAIN(TestGgufWriter)
#include "tst_gguf_writer.moc"
