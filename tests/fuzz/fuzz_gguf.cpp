// Fuzz target for the GGUF reader: parses arbitrary bytes; on failure the
// error must name a field and an offset; on success every accessor is
// exercised, every tensor must lie inside the input, and writing the file
// back out with GgufWriter must give a file that parses again.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/gguf_file.h"
#include "engine/gguf_writer.h"

using namespace glassbox::engine;

namespace {

volatile uint64_t g_sink = 0;

void use(uint64_t x) { g_sink = g_sink + x; }

void check(bool ok) {
    if (!ok) __builtin_trap();
}

void touchValue(const GgufValue& v, int depth) {
    use(v.asInt().value_or(0) + static_cast<uint64_t>(v.asFloat().value_or(0.0) != 0.0));
    use(v.toDisplayString(4).size());
    if (!v.isArray()) {
        check(v.arraySize() == 0 && !v.arrayItem(0));
        return;
    }
    const uint64_t n = v.arraySize();
    use(v.arrayBytes().size());
    check(!v.arrayItem(n));
    if (n > 0) {
        const auto first = v.arrayItem(0);
        const auto last = v.arrayItem(n - 1);
        check(first.has_value() && last.has_value());
        check(first->type == v.arrayType);
        if (depth < 8) touchValue(*first, depth + 1);
    }
    if (v.arrayType == GgufValueType::String) {
        const auto strings = v.toStringArray();
        check(strings.has_value() && strings->size() == n);
        if (n > 0) check(v.arrayString(n - 1).has_value());
    }
    if (const auto floats = v.toFloatArray()) check(floats->size() == n);
    if (const auto ints = v.toIntArray()) check(ints->size() == n);
}

void roundTrip(const GgufFile& f) {
    GgufWriter w;
    for (const auto& [key, value] : f.metadata()) w.set(key, value);
    for (const auto& t : f.tensors()) {
        const TensorView v = f.view(t);
        const std::vector<int64_t> ne(t.ne.begin(), t.ne.begin() + t.nDims);
        // The writer is stricter about names (1..63 bytes) than the reader.
        if (!w.addTensor(t.name, t.type, ne, {v.data, static_cast<size_t>(v.bytes)}).ok()) return;
    }
    const auto out = w.writeToBuffer();
    check(out.ok());
    const auto again = GgufFile::parse({out->data(), out->size()});
    check(again.ok());
    check(again->metadata().size() == f.metadata().size());
    check(again->tensors().size() == f.tensors().size());
    check(again->alignment() == f.alignment());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto parsed = GgufFile::parse({data, size});
    if (!parsed.ok()) {
        const Error& e = parsed.error();
        check(!e.field.empty() && e.offset != kNoOffset && !e.message.empty());
        use(e.toString().size());
        return 0;
    }
    const GgufFile& f = *parsed;
    check(f.version() == 2 || f.version() == 3);
    check(f.alignment() > 0 && f.alignment() <= kGgufMaxAlignment);
    for (const auto& [key, value] : f.metadata()) {
        check(f.find(key) == &value);
        touchValue(value, 0);
        use(f.getString(key).has_value() + f.getInt(key).has_value() + f.getFloat(key).has_value() +
                  f.getBool(key).has_value());
        use(f.getStringArray(key).has_value() + f.getFloatArray(key).has_value() +
                  f.getIntArray(key).has_value());
    }
    for (const auto& t : f.tensors()) {
        check(f.findTensor(t.name) == &t);
        check(t.nDims >= 1 && t.nDims <= 4);
        const TensorView v = f.view(t);
        check(v.bytes == t.bytes);
        check(t.bytes == 0 || v.data != nullptr);
        check(t.offset % f.alignment() == 0);
        if (v.data) use(v.data[0] + v.data[v.bytes - 1]);
    }
    roundTrip(f);
    return 0;
}
