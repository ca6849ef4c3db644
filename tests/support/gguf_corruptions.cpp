// Builds the tiny valid GGUF file with GgufWriter, locates every field in it
// with a small walker (the file is our own, so the walker trusts it), and
// derives each malformed case by patching or cutting those bytes.
#include "gguf_corruptions.h"

#include <array>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "engine/gguf_file.h"
#include "engine/gguf_writer.h"

namespace glassbox::test {

using engine::ErrorCode;
using engine::GgufValue;
using engine::GgufValueType;
using engine::TensorType;

namespace {

constexpr uint64_t kU64Max = std::numeric_limits<uint64_t>::max();

template <class T>
T load(const std::vector<uint8_t>& b, uint64_t pos) {
    T v{};
    std::memcpy(&v, b.data() + pos, sizeof v);
    return v;
}

template <class T>
std::vector<uint8_t> patched(std::vector<uint8_t> b, uint64_t pos, T v) {
    std::memcpy(b.data() + pos, &v, sizeof v);
    return b;
}

std::vector<uint8_t> cut(const std::vector<uint8_t>& b, uint64_t size) {
    return {b.begin(), b.begin() + static_cast<std::ptrdiff_t>(size)};
}

// Where each field of the base file sits.
struct Layout {
    struct Kv {
        std::string key;
        uint64_t keyPos, typePos, valuePos, end;
    };
    struct Tensor {
        std::string name;
        uint64_t namePos, nDimsPos, dimsPos, typePos, offsetPos, end, offset;
    };
    std::vector<Kv> kvs;
    std::vector<Tensor> tensors;
    uint64_t dataOffset = 0;

    const Kv& kv(const std::string& key) const {
        for (const Kv& k : kvs)
            if (k.key == key) return k;
        throw std::logic_error("no key " + key);
    }
    size_t kvIndex(const std::string& key) const { return static_cast<size_t>(&kv(key) - kvs.data()); }
};

uint64_t skipPayload(const std::vector<uint8_t>& b, uint64_t pos, GgufValueType type);

uint64_t skipArray(const std::vector<uint8_t>& b, uint64_t pos) {
    const auto elementType = static_cast<GgufValueType>(load<uint32_t>(b, pos));
    const uint64_t count = load<uint64_t>(b, pos + 4);
    pos += 12;
    if (const size_t size = engine::ggufValueTypeSize(elementType)) return pos + count * size;
    for (uint64_t k = 0; k < count; ++k) pos = skipPayload(b, pos, elementType);
    return pos;
}

uint64_t skipPayload(const std::vector<uint8_t>& b, uint64_t pos, GgufValueType type) {
    if (type == GgufValueType::String) return pos + 8 + load<uint64_t>(b, pos);
    if (type == GgufValueType::Array) return skipArray(b, pos);
    return pos + engine::ggufValueTypeSize(type);
}

std::string stringAt(const std::vector<uint8_t>& b, uint64_t pos) {
    return {reinterpret_cast<const char*>(b.data() + pos + 8), static_cast<size_t>(load<uint64_t>(b, pos))};
}

Layout walk(const std::vector<uint8_t>& b) {
    Layout l;
    const uint64_t tensorCount = load<uint64_t>(b, 8);
    const uint64_t kvCount = load<uint64_t>(b, 16);
    uint64_t pos = 24;
    for (uint64_t k = 0; k < kvCount; ++k) {
        Layout::Kv kv{stringAt(b, pos), pos, 0, 0, 0};
        kv.typePos = pos + 8 + kv.key.size();
        kv.valuePos = kv.typePos + 4;
        kv.end = skipPayload(b, kv.valuePos, static_cast<GgufValueType>(load<uint32_t>(b, kv.typePos)));
        pos = kv.end;
        l.kvs.push_back(kv);
    }
    for (uint64_t k = 0; k < tensorCount; ++k) {
        Layout::Tensor t{stringAt(b, pos), pos, 0, 0, 0, 0, 0, 0};
        t.nDimsPos = pos + 8 + t.name.size();
        t.dimsPos = t.nDimsPos + 4;
        t.typePos = t.dimsPos + 8 * load<uint32_t>(b, t.nDimsPos);
        t.offsetPos = t.typePos + 4;
        t.end = t.offsetPos + 8;
        t.offset = load<uint64_t>(b, t.offsetPos);
        pos = t.end;
        l.tensors.push_back(t);
    }
    l.dataOffset = (pos + 31) / 32 * 32;
    return l;
}

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
    std::vector<uint8_t> v(n);
    for (size_t k = 0; k < n; ++k) v[k] = static_cast<uint8_t>(seed + k * 7);
    return v;
}

// A file holding arrays nested `levels` deep.
std::vector<uint8_t> makeDeepArrayFile(int levels) {
    const std::array<uint8_t, 1> leaf{1};
    GgufValue value = GgufValue::ofArray<uint8_t>(leaf);
    for (int k = 1; k < levels; ++k) value = GgufValue::ofArrays(std::span(&value, 1)).value();
    engine::GgufWriter w;
    w.set("general.architecture", "llama");
    w.set("test.deep", value);
    return w.writeToBuffer().value();
}

}  // namespace

std::vector<uint8_t> makeTinyGguf() {
    engine::GgufWriter w;
    w.set("general.architecture", "llama");
    (void)w.setAlignment(32);
    std::string description;
    while (description.size() < 320) description += "A tiny model file for parser tests. ";
    w.set("general.description", description);
    w.set("test.u8", uint8_t(200));
    w.set("test.i8", int8_t(-100));
    w.set("test.u16", uint16_t(60000));
    w.set("test.i16", int16_t(-30000));
    w.set("test.u32", uint32_t(4000000000u));
    w.set("test.i32", int32_t(-2000000000));
    w.set("test.f32", 1.5f);
    w.set("test.bool", true);
    w.set("test.u64", uint64_t(1) << 63);
    w.set("test.i64", int64_t(-1) << 62);
    w.set("test.f64", 2.25);
    w.setArray("test.strs", std::vector<std::string>{"alpha", "be", "c"});
    const std::array<uint8_t, 3> bytes{1, 2, 3};
    const std::vector<std::string> words{"x", "yz"};
    const std::array<GgufValue, 2> inner{GgufValue::ofArray<uint8_t>(bytes), GgufValue::ofStrings(words)};
    w.set("test.nest", GgufValue::ofArrays(inner).value());
    w.setArray("test.ints", std::vector<int32_t>{1, -2, 3, 4});
    (void)w.addTensorOwned("t.f32", TensorType::F32, {8, 4}, pattern(128, 1));
    (void)w.addTensorOwned("t.q40", TensorType::Q4_0, {64, 2}, pattern(72, 2));
    (void)w.addTensorOwned("t.q80", TensorType::Q8_0, {32, 1, 1, 2}, pattern(68, 3));
    (void)w.addTensorOwned("t.f16", TensorType::F16, {16}, pattern(32, 4));
    return w.writeToBuffer().value();
}

namespace {

// Collects the cases derived from one base file.
class CaseBuilder {
public:
    CaseBuilder() : base(makeTinyGguf()), l(walk(base)), size(base.size()) {}

    void headerCases();
    void valueCases();
    void arrayCases();
    void alignmentAndOrderCases();
    void tensorCases();
    void dataCases();
    std::vector<GgufCorruption> out;

private:
    void add(std::string name, std::vector<uint8_t> bytes, ErrorCode code, std::string field) {
        out.push_back({std::move(name), std::move(bytes), code, std::move(field)});
    }
    std::string kvField(const std::string& key, const char* part) const {
        return "kv[" + std::to_string(l.kvIndex(key)) + "]." + part + " (key '" + key + "')";
    }

    const std::vector<uint8_t> base;
    const Layout l;
    const uint64_t size;
};

void CaseBuilder::headerCases() {
    add("empty", {}, ErrorCode::Truncated, "header.magic");
    add("truncated_magic", cut(base, 2), ErrorCode::Truncated, "header.magic");
    add("bad_magic", patched<uint32_t>(base, 0, 0x58554747), ErrorCode::Malformed, "header.magic");
    add("version_0", patched<uint32_t>(base, 4, 0), ErrorCode::Unsupported, "header.version");
    add("version_1", patched<uint32_t>(base, 4, 1), ErrorCode::Unsupported, "header.version");
    add("version_99", patched<uint32_t>(base, 4, 99), ErrorCode::Unsupported, "header.version");
    add("version_big_endian", patched<uint32_t>(base, 4, 0x03000000), ErrorCode::Unsupported, "header.version");
    add("truncated_version", cut(base, 6), ErrorCode::Truncated, "header.version");
    add("truncated_tensor_count", cut(base, 12), ErrorCode::Truncated, "header.tensor_count");
    add("truncated_kv_count", cut(base, 20), ErrorCode::Truncated, "header.kv_count");
    add("tensor_count_huge", patched<uint64_t>(base, 8, uint64_t(1) << 63), ErrorCode::Overflow, "header.tensor_count");
    add("tensor_count_max", patched<uint64_t>(base, 8, kU64Max), ErrorCode::Overflow, "header.tensor_count");
    add("kv_count_huge", patched<uint64_t>(base, 16, uint64_t(1) << 62), ErrorCode::Overflow, "header.kv_count");
    add("kv_count_max", patched<uint64_t>(base, 16, kU64Max), ErrorCode::Overflow, "header.kv_count");
    add("kv_count_past_remaining", patched<uint64_t>(base, 16, (size - 24) / 12 + 1), ErrorCode::Overflow,
        "header.kv_count");
}

void CaseBuilder::valueCases() {
    const auto& arch = l.kvs[0];
    add("key_length_max", patched<uint64_t>(base, arch.keyPos, kU64Max), ErrorCode::Truncated, "kv[0].key");
    add("key_length_past_eof", patched<uint64_t>(base, l.kvs[1].keyPos, size - l.kvs[1].keyPos - 8 + 1),
        ErrorCode::Truncated, "kv[1].key");
    add("string_length_max", patched<uint64_t>(base, arch.valuePos, kU64Max), ErrorCode::Truncated,
        kvField("general.architecture", "value"));
    add("string_length_past_eof", patched<uint64_t>(base, arch.valuePos, size - arch.valuePos - 8 + 1),
        ErrorCode::Truncated, kvField("general.architecture", "value"));
    add("value_type_unknown", patched<uint32_t>(base, l.kv("test.u8").typePos, 13), ErrorCode::Malformed,
        kvField("test.u8", "type"));
    add("value_type_max", patched<uint32_t>(base, l.kv("test.u8").typePos, 0xffffffffu), ErrorCode::Malformed,
        kvField("test.u8", "type"));
    add("bool_not_0_or_1", patched<uint8_t>(base, l.kv("test.bool").valuePos, 2), ErrorCode::Malformed,
        kvField("test.bool", "value"));
}

void CaseBuilder::arrayCases() {
    const auto& ints = l.kv("test.ints");
    add("array_count_overflow", patched<uint64_t>(base, ints.valuePos + 4, uint64_t(1) << 62), ErrorCode::Overflow,
        kvField("test.ints", "value"));
    add("array_count_past_eof", patched<uint64_t>(base, ints.valuePos + 4, 1000), ErrorCode::Truncated,
        kvField("test.ints", "value"));
    add("array_element_type_unknown", patched<uint32_t>(base, ints.valuePos, 99), ErrorCode::Malformed,
        kvField("test.ints", "value"));
    const auto& strs = l.kv("test.strs");
    add("string_array_count_huge", patched<uint64_t>(base, strs.valuePos + 4, uint64_t(1) << 61),
        ErrorCode::Overflow, kvField("test.strs", "value"));
    add("string_array_count_past_remaining", patched<uint64_t>(base, strs.valuePos + 4, 100000), ErrorCode::Overflow,
        kvField("test.strs", "value"));
    const uint64_t secondString = strs.valuePos + 12 + 8 + load<uint64_t>(base, strs.valuePos + 12);
    add("string_array_element_length_past_eof", patched<uint64_t>(base, secondString, uint64_t(1) << 40),
        ErrorCode::Truncated, kvField("test.strs", "value"));
    const auto& nest = l.kv("test.nest");
    add("nested_array_count_past_eof", patched<uint64_t>(base, nest.valuePos + 12 + 4, uint64_t(1) << 40),
        ErrorCode::Truncated, kvField("test.nest", "value"));
    add("nested_array_element_type_unknown", patched<uint32_t>(base, nest.valuePos + 12, 50), ErrorCode::Malformed,
        kvField("test.nest", "value"));
    add("nested_array_depth_bomb", makeDeepArrayFile(64), ErrorCode::Malformed, "(key 'test.deep')");
    add("nested_array_depth_5", makeDeepArrayFile(engine::kGgufMaxArrayDepth + 1), ErrorCode::Malformed,
        "(key 'test.deep')");
    add("truncated_array_body", cut(base, ints.valuePos + 12 + 6), ErrorCode::Truncated, kvField("test.ints", "value"));
    add("truncated_string_array", cut(base, strs.end - 1), ErrorCode::Truncated,
        kvField("test.strs", "value"));
}

void CaseBuilder::alignmentAndOrderCases() {
    const auto& align = l.kv("general.alignment");
    add("alignment_zero", patched<uint32_t>(base, align.valuePos, 0), ErrorCode::Malformed,
        kvField("general.alignment", "value"));
    add("alignment_not_power_of_two", patched<uint32_t>(base, align.valuePos, 48), ErrorCode::Malformed,
        kvField("general.alignment", "value"));
    add("alignment_huge", patched<uint32_t>(base, align.valuePos, 1u << 30), ErrorCode::Unsupported,
        kvField("general.alignment", "value"));
    add("alignment_wrong_type", patched<uint32_t>(base, align.typePos, 5), ErrorCode::Malformed,
        kvField("general.alignment", "type"));
    std::vector<uint8_t> dupKey = base;
    std::memcpy(dupKey.data() + l.kv("test.i8").keyPos + 8, "test.u8", 7);
    add("duplicate_key", dupKey, ErrorCode::Malformed,
        "kv[" + std::to_string(l.kvIndex("test.i8")) + "].key (key 'test.u8')");
    const auto& lastKv = l.kvs.back();
    add("truncated_kv_key", cut(base, lastKv.keyPos + 8 + 3), ErrorCode::Truncated,
        "kv[" + std::to_string(l.kvs.size() - 1) + "].key");
    add("truncated_kv_type", cut(base, lastKv.typePos + 2), ErrorCode::Truncated, kvField(lastKv.key, "type"));
    add("truncated_kv_value", cut(base, l.kv("test.f64").valuePos + 3), ErrorCode::Truncated,
        kvField("test.f64", "value"));
}

void CaseBuilder::tensorCases() {
    const auto& t0 = l.tensors[0];
    const auto& t1 = l.tensors[1];
    const auto& t2 = l.tensors[2];
    const auto& t3 = l.tensors[3];
    add("tensor_name_length_max", patched<uint64_t>(base, t0.namePos, kU64Max), ErrorCode::Truncated, "tensor[0].name");
    add("n_dims_0", patched<uint32_t>(base, t0.nDimsPos, 0), ErrorCode::Malformed, "tensor[0].n_dims");
    add("n_dims_5", patched<uint32_t>(base, t0.nDimsPos, 5), ErrorCode::Malformed, "tensor[0].n_dims");
    add("n_dims_max", patched<uint32_t>(base, t0.nDimsPos, 0xffffffffu), ErrorCode::Malformed, "tensor[0].n_dims");
    add("dim_negative", patched<int64_t>(base, t0.dimsPos + 8, -1), ErrorCode::Malformed, "tensor[0].dims");
    add("dim_huge", patched<int64_t>(base, t0.dimsPos, int64_t(1) << 62), ErrorCode::Overflow, "tensor[0].dims");
    add("dim_product_overflow",
        patched<int64_t>(patched<int64_t>(base, t0.dimsPos, int64_t(1) << 32), t0.dimsPos + 8, int64_t(1) << 32),
        ErrorCode::Overflow, "tensor[0].dims");
    add("byte_size_overflow", patched<int64_t>(base, t0.dimsPos, int64_t(1) << 60), ErrorCode::Overflow,
        "tensor[0].dims");
    add("row_size_overflow",
        patched<int64_t>(patched<int64_t>(base, t0.dimsPos, int64_t(1) << 62), t0.dimsPos + 8, 1),
        ErrorCode::Overflow, "tensor[0].dims");
    add("ne0_not_block_multiple", patched<int64_t>(base, t1.dimsPos, 63), ErrorCode::Malformed, "tensor[1].dims");
    add("tensor_type_unknown", patched<uint32_t>(base, t1.typePos, 99), ErrorCode::Unsupported, "tensor[1].type");
    add("tensor_type_removed", patched<uint32_t>(base, t1.typePos, 4), ErrorCode::Unsupported, "tensor[1].type");
    add("misaligned_offset", patched<uint64_t>(base, t1.offsetPos, t1.offset + 4), ErrorCode::Malformed,
        "tensor[1].offset");
    add("tensor_offset_past_eof", patched<uint64_t>(base, t3.offsetPos, uint64_t(1) << 40), ErrorCode::Truncated,
        "tensor[3].data");
    add("tensor_end_past_eof", patched<uint64_t>(base, t3.offsetPos, size - l.dataOffset), ErrorCode::Truncated,
        "tensor[3].data");
    add("tensor_offset_wraps", patched<uint64_t>(base, t3.offsetPos, kU64Max - 31), ErrorCode::Overflow,
        "tensor[3].data");
    add("overlapping_tensors", patched<uint64_t>(base, t2.offsetPos, t1.offset), ErrorCode::Malformed,
        "tensor[2].offset");
    std::vector<uint8_t> dupName = base;
    std::memcpy(dupName.data() + t3.namePos + 8, t0.name.data(), t0.name.size());
    add("duplicate_tensor_names", dupName, ErrorCode::Malformed, "tensor[3].name");
    add("truncated_tensor_name", cut(base, t3.namePos + 8 + 2), ErrorCode::Truncated, "tensor[3].name");
    add("truncated_tensor_n_dims", cut(base, t3.nDimsPos + 1), ErrorCode::Truncated, "tensor[3].n_dims");
    add("truncated_tensor_dims", cut(base, t3.dimsPos + 4), ErrorCode::Truncated, "tensor[3].dims");
    add("truncated_tensor_type", cut(base, t3.typePos + 2), ErrorCode::Truncated, "tensor[3].type");
    add("truncated_tensor_offset", cut(base, t3.offsetPos + 5), ErrorCode::Truncated, "tensor[3].offset");
}

void CaseBuilder::dataCases() {
    const auto& t2 = l.tensors[2];
    const auto& t3 = l.tensors[3];
    add("truncated_before_data", cut(base, t3.end), ErrorCode::Truncated, "tensor[0].data");
    add("truncated_data", cut(base, l.dataOffset + t2.offset + 10), ErrorCode::Truncated, "tensor[2].data");
    add("truncated_last_tensor", cut(base, size - 1), ErrorCode::Truncated, "tensor[3].data");
}

}  // namespace

std::vector<GgufCorruption> makeGgufCorruptions() {
    CaseBuilder b;
    b.headerCases();
    b.valueCases();
    b.arrayCases();
    b.alignmentAndOrderCases();
    b.tensorCases();
    b.dataCases();
    return std::move(b.out);
}

}  // namespace glassbox::test
