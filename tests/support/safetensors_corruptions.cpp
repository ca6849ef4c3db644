// The corruption table: each entry changes one thing in the valid base file.
#include "support/safetensors_corruptions.h"

#include <utility>

namespace glassbox::test {
namespace {

using engine::ErrorCode;

constexpr std::string_view kA =
    R"("a.weight":{"dtype":"F32","shape":[16,16],"data_offsets":[0,1024]})";
constexpr std::string_view kB =
    R"("b.weight":{"dtype":"F16","shape":[4],"data_offsets":[1024,1032]})";
constexpr std::string_view kC =
    R"("c.bias":{"dtype":"BF16","shape":[2,2],"data_offsets":[1032,1040]})";
constexpr std::string_view kMeta = R"("__metadata__":{"format":"pt"})";

std::string header(std::string_view meta, std::string_view a, std::string_view b,
                   std::string_view c) {
    std::string h = "{";
    for (std::string_view part : {meta, a, b, c}) {
        if (part.empty()) continue;
        if (h.size() > 1) h += ',';
        h += part;
    }
    return h + "}";
}

std::vector<uint8_t> withHeader(std::string_view h, size_t dataBytes = 1040) {
    std::vector<uint8_t> data = safetensorsBaseData();
    data.resize(dataBytes, 0x5A);
    return makeSafetensorsBytes(h, data);
}

std::string replaced(std::string_view text, std::string_view from, std::string_view to) {
    std::string s(text);
    const size_t at = s.find(from);
    if (at != std::string::npos) s.replace(at, from.size(), to);
    return s;
}

std::vector<uint8_t> withLength(uint64_t length) {
    return makeSafetensorsBytes(safetensorsBaseHeader(), safetensorsBaseData(), length);
}

}  // namespace

std::vector<uint8_t> makeSafetensorsBytes(std::string_view headerText,
                                          std::span<const uint8_t> data,
                                          std::optional<uint64_t> declaredLength) {
    std::string h(headerText);
    h.append((8 - h.size() % 8) % 8, ' ');
    const uint64_t n = declaredLength.value_or(h.size());
    std::vector<uint8_t> out;
    for (int i = 0; i < 8; ++i) out.push_back(uint8_t(n >> (8 * i)));
    out.insert(out.end(), h.begin(), h.end());
    out.insert(out.end(), data.begin(), data.end());
    return out;
}

std::string safetensorsBaseHeader() { return header(kMeta, kA, kB, kC); }

std::vector<uint8_t> safetensorsBaseData() {
    std::vector<uint8_t> data(1040);
    for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(i * 7 + 1);
    return data;
}

std::vector<uint8_t> validSafetensorsBase() {
    return makeSafetensorsBytes(safetensorsBaseHeader(), safetensorsBaseData());
}

std::vector<SafetensorsCorruption> safetensorsCorruptions() {
    const std::string base = safetensorsBaseHeader();
    const size_t headerBytes = validSafetensorsBase().size() - 8 - 1040;
    std::vector<SafetensorsCorruption> c;
    auto add = [&c](std::string name, std::vector<uint8_t> bytes, ErrorCode code,
                    std::string field) {
        c.push_back({std::move(name), std::move(bytes), code, std::move(field)});
    };
    add("header_length_huge", withLength(uint64_t(1) << 62), ErrorCode::Overflow, "header_length");
    add("header_length_past_eof", withLength(headerBytes + 1041), ErrorCode::Truncated,
        "header_length");
    add("header_length_zero", withLength(0), ErrorCode::Malformed, "header_length");
    add("file_shorter_than_length", {0x10, 0, 0, 0, 0}, ErrorCode::Truncated, "header_length");
    add("header_not_json", withHeader("this is not JSON"), ErrorCode::Malformed, "$");
    add("header_not_object", withHeader("[1,2,3]"), ErrorCode::Malformed, "$");
    add("header_truncated_json", withHeader(R"({"a.weight":{"dtype":"F32")"), ErrorCode::Truncated,
        "a.weight");
    add("header_invalid_utf8", withHeader(replaced(base, "\"pt\"", "\"p\xC3\x28\"")),
        ErrorCode::Malformed, "__metadata__");
    add("unknown_dtype", withHeader(replaced(base, "\"F32\"", "\"F33\"")), ErrorCode::Unsupported,
        "dtype");
    add("dtype_not_string", withHeader(replaced(base, "\"F32\"", "32")), ErrorCode::Malformed,
        "dtype");
    add("missing_dtype", withHeader(replaced(base, R"("dtype":"F16",)", "")), ErrorCode::Malformed,
        "dtype");
    add("negative_dim", withHeader(replaced(base, "[16,16]", "[-16,16]")), ErrorCode::Malformed,
        "shape");
    add("fractional_dim", withHeader(replaced(base, "[16,16]", "[16.5,16]")), ErrorCode::Malformed,
        "shape");
    add("shape_product_overflow",
        withHeader(replaced(base, "[16,16]", "[4294967296,4294967296,16]")), ErrorCode::Overflow,
        "shape");
    add("too_many_dims", withHeader(replaced(base, "[4]", "[1,1,1,1,1,1,1,1,4]")),
        ErrorCode::Malformed, "shape");
    add("offsets_end_before_begin", withHeader(replaced(base, "[0,1024]", "[1024,0]")),
        ErrorCode::Malformed, "data_offsets");
    add("offsets_wrong_arity", withHeader(replaced(base, "[0,1024]", "[0,1024,2048]")),
        ErrorCode::Malformed, "data_offsets");
    add("offsets_past_eof", withHeader(base, 1032), ErrorCode::Truncated, "c.bias");
    add("overlapping_tensors",
        withHeader(header(kMeta, kA, replaced(kB, "[1024,1032]", "[1016,1024]"),
                          replaced(kC, "[1032,1040]", "[1024,1032]")),
                   1032),
        ErrorCode::Malformed, "b.weight");
    add("gap_between_tensors",
        withHeader(header(kMeta, kA, replaced(kB, "[1024,1032]", "[1028,1036]"),
                          replaced(kC, "[1032,1040]", "[1036,1044]")),
                   1044),
        ErrorCode::Malformed, "b.weight");
    add("size_mismatch", withHeader(replaced(base, "[16,16]", "[16,17]")), ErrorCode::Malformed,
        "data_offsets");
    add("trailing_bytes_uncovered", withHeader(base, 1048), ErrorCode::Malformed, "data");
    add("duplicate_tensor_name",
        withHeader(header(kMeta, kA, kB, replaced(kA, "[0,1024]", "[1040,2064]"))),
        ErrorCode::Malformed, "a.weight");
    add("depth_bomb",
        withHeader("{\"a\":" + std::string(20000, '[') + std::string(20000, ']') + "}"),
        ErrorCode::Overflow, "$.a");
    add("metadata_value_not_string", withHeader(replaced(base, "\"pt\"", "1")),
        ErrorCode::Malformed, "__metadata__");
    add("tensor_entry_not_object", withHeader(header(kMeta, kA, kB, R"("c.bias":[1032,1040])")),
        ErrorCode::Malformed, "c.bias");
    return c;
}

}  // namespace glassbox::test
