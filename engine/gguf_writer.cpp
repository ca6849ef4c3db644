// GGUF v3 encoding: the GgufValue builders (values encoded once into shared
// storage) and GgufWriter, which lays out header, metadata, tensor infos and
// aligned tensor data, and streams them to a file or a buffer through a sink.
#include "engine/gguf_writer.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <new>

#include "engine/checked_math.h"

namespace glassbox::engine {
namespace {

constexpr size_t kMaxTensorNameBytes = 63;  // what ggml-based readers accept

void putBytes(std::vector<uint8_t>& out, const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out.insert(out.end(), b, b + n);
}

template <class T>
void put(std::vector<uint8_t>& out, T v) {
    putBytes(out, &v, sizeof v);
}

void putString(std::vector<uint8_t>& out, std::string_view s) {
    put<uint64_t>(out, s.size());
    putBytes(out, s.data(), s.size());
}

// One value's payload (without its type id) in GGUF encoding.
void putPayload(std::vector<uint8_t>& out, const GgufValue& v) {
    switch (v.type) {
    case GgufValueType::Uint8: put<uint8_t>(out, uint8_t(v.u)); break;
    case GgufValueType::Int8: put<int8_t>(out, int8_t(v.i)); break;
    case GgufValueType::Uint16: put<uint16_t>(out, uint16_t(v.u)); break;
    case GgufValueType::Int16: put<int16_t>(out, int16_t(v.i)); break;
    case GgufValueType::Uint32: put<uint32_t>(out, uint32_t(v.u)); break;
    case GgufValueType::Int32: put<int32_t>(out, int32_t(v.i)); break;
    case GgufValueType::Float32: put<float>(out, float(v.f)); break;
    case GgufValueType::Bool: put<uint8_t>(out, v.u ? 1 : 0); break;
    case GgufValueType::String: putString(out, v.s); break;
    case GgufValueType::Uint64: put<uint64_t>(out, v.u); break;
    case GgufValueType::Int64: put<int64_t>(out, v.i); break;
    case GgufValueType::Float64: put<double>(out, v.f); break;
    case GgufValueType::Array:
        put<uint32_t>(out, static_cast<uint32_t>(v.arrayType));
        put<uint64_t>(out, v.arraySize());
        putBytes(out, v.arrayBytes().data(), v.arrayBytes().size());
        break;
    }
}

Status invalid(std::string message, std::string field = {}) {
    return makeError(ErrorCode::InvalidArgument, std::move(message), std::move(field));
}

}  // namespace

// --- GgufValue builders ----------------------------------------------------

GgufValue GgufValue::ofString(std::string value) {
    GgufValue v;
    v.type = GgufValueType::String;
    v.s = std::move(value);
    return v;
}

GgufValue GgufValue::makeFixedArray(GgufValueType elementType, uint64_t count, const void* data, size_t bytes) {
    auto storage = std::make_shared<std::vector<uint8_t>>(bytes);
    if (bytes) std::memcpy(storage->data(), data, bytes);
    GgufValue v;
    v.type = GgufValueType::Array;
    v.arrayType = elementType;
    v.m_count = count;
    v.m_raw = *storage;
    v.m_storage = std::move(storage);
    return v;
}

GgufValue GgufValue::ofStrings(std::span<const std::string> items) {
    auto storage = std::make_shared<std::vector<uint8_t>>();
    GgufValue v;
    v.type = GgufValueType::Array;
    v.arrayType = GgufValueType::String;
    v.m_count = items.size();
    v.m_offsets.reserve(items.size());
    for (const std::string& s : items) {
        v.m_offsets.push_back(storage->size());
        putString(*storage, s);
    }
    v.m_raw = *storage;
    v.m_storage = std::move(storage);
    return v;
}

Result<GgufValue> GgufValue::ofArrays(std::span<const GgufValue> items) {
    auto storage = std::make_shared<std::vector<uint8_t>>();
    GgufValue v;
    v.type = GgufValueType::Array;
    v.arrayType = GgufValueType::Array;
    v.m_count = items.size();
    v.m_offsets.reserve(items.size());
    for (size_t k = 0; k < items.size(); ++k) {
        if (!items[k].isArray())
            return makeError(ErrorCode::InvalidArgument, "item " + std::to_string(k) + " is not an array");
        v.m_offsets.push_back(storage->size());
        putPayload(*storage, items[k]);
    }
    v.m_raw = *storage;
    v.m_storage = std::move(storage);
    return v;
}

// --- sinks -----------------------------------------------------------------

// Where encoded bytes go. Tensor fills write into acquire()d space, which
// the sink then commits: in place for a buffer, through one reused scratch
// buffer for a file.
class detail::GgufSink {
public:
    virtual ~GgufSink() = default;
    virtual Status write(std::span<const uint8_t> bytes) = 0;
    virtual Result<std::span<uint8_t>> acquire(uint64_t n) = 0;
    virtual Status commit(std::span<uint8_t> bytes) = 0;

    Status writeZeros(uint64_t n) {
        static constexpr uint8_t kZeros[4096] = {};
        while (n > 0) {
            const uint64_t chunk = std::min<uint64_t>(n, sizeof kZeros);
            GB_TRY(write({kZeros, static_cast<size_t>(chunk)}));
            n -= chunk;
        }
        return {};
    }
};

namespace {

class BufferSink final : public detail::GgufSink {
public:
    explicit BufferSink(std::vector<uint8_t>& out) : m_out(out) {}
    Status write(std::span<const uint8_t> bytes) override {
        GB_ASSIGN_OR_RETURN(auto dst, acquire(bytes.size()));
        if (!bytes.empty()) std::memcpy(dst.data(), bytes.data(), bytes.size());
        return {};
    }
    Result<std::span<uint8_t>> acquire(uint64_t n) override {
        if (n > m_out.size() - m_pos)
            return makeError(ErrorCode::InvalidArgument, "writer contents changed while writing");
        std::span<uint8_t> s(m_out.data() + m_pos, n);
        m_pos += n;
        return s;
    }
    Status commit(std::span<uint8_t>) override { return {}; }

private:
    std::vector<uint8_t>& m_out;
    uint64_t m_pos = 0;
};

class FileSink final : public detail::GgufSink {
public:
    FileSink(std::FILE* file, std::string path) : m_file(file), m_path(std::move(path)) {}
    Status write(std::span<const uint8_t> bytes) override {
        if (bytes.empty() || std::fwrite(bytes.data(), 1, bytes.size(), m_file) == bytes.size()) return {};
        return makeError(ErrorCode::Io, std::string("write failed: ") + std::strerror(errno), m_path);
    }
    Result<std::span<uint8_t>> acquire(uint64_t n) override {
        if (n > std::numeric_limits<size_t>::max())
            return makeError(ErrorCode::OutOfMemory, "tensor too large for memory", m_path);
        try {
            m_scratch.resize(static_cast<size_t>(n));
        } catch (const std::bad_alloc&) {
            return makeError(ErrorCode::OutOfMemory, "no memory for a tensor of " + std::to_string(n) + " bytes",
                             m_path);
        }
        return std::span<uint8_t>(m_scratch.data(), static_cast<size_t>(n));
    }
    Status commit(std::span<uint8_t> bytes) override { return write(bytes); }

private:
    std::FILE* m_file;
    std::string m_path;
    std::vector<uint8_t> m_scratch;
};

}  // namespace

// --- GgufWriter ------------------------------------------------------------

void GgufWriter::set(std::string key, const GgufValue& value) {
    std::vector<uint8_t> encoded;
    put<uint32_t>(encoded, static_cast<uint32_t>(value.type));
    putPayload(encoded, value);
    for (auto& [k, v] : m_metadata) {
        if (k == key) {
            v = std::move(encoded);
            return;
        }
    }
    m_metadata.emplace_back(std::move(key), std::move(encoded));
}

bool GgufWriter::remove(std::string_view key) {
    auto it = std::find_if(m_metadata.begin(), m_metadata.end(), [key](const auto& kv) { return kv.first == key; });
    if (it == m_metadata.end()) return false;
    m_metadata.erase(it);
    return true;
}

bool GgufWriter::has(std::string_view key) const {
    return std::any_of(m_metadata.begin(), m_metadata.end(), [key](const auto& kv) { return kv.first == key; });
}

Status GgufWriter::setAlignment(uint32_t alignment) {
    if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment > kGgufMaxAlignment)
        return invalid("alignment " + std::to_string(alignment) + " is not a power of two up to " +
                           std::to_string(kGgufMaxAlignment),
                       "general.alignment");
    set("general.alignment", alignment);
    return {};
}

Result<uint32_t> GgufWriter::checkedAlignment() const {
    for (const auto& [key, encoded] : m_metadata) {
        if (key != "general.alignment") continue;
        uint32_t type = 0, value = 0;
        if (encoded.size() == 8) {
            std::memcpy(&type, encoded.data(), 4);
            std::memcpy(&value, encoded.data() + 4, 4);
        }
        if (type != static_cast<uint32_t>(GgufValueType::Uint32) || value == 0 || (value & (value - 1)) != 0 ||
            value > kGgufMaxAlignment)
            return makeError(ErrorCode::InvalidArgument,
                             "general.alignment must be a uint32 power of two up to " +
                                 std::to_string(kGgufMaxAlignment),
                             "general.alignment");
        return value;
    }
    return kGgufDefaultAlignment;
}

uint32_t GgufWriter::alignment() const {
    auto a = checkedAlignment();
    return a.ok() ? *a : kGgufDefaultAlignment;
}

Result<GgufWriter::Tensor> GgufWriter::makeTensor(std::string name, TensorType type, std::vector<int64_t> ne) const {
    if (name.empty() || name.size() > kMaxTensorNameBytes)
        return makeError(ErrorCode::InvalidArgument,
                         "tensor names must have 1.." + std::to_string(kMaxTensorNameBytes) + " bytes", name);
    for (const Tensor& t : m_tensors)
        if (t.name == name) return makeError(ErrorCode::InvalidArgument, "duplicate tensor name", name);
    const auto traits = tensorTypeTraits(static_cast<uint32_t>(type));
    if (!traits) return makeError(ErrorCode::InvalidArgument, "unknown tensor type", name);
    if (ne.empty() || ne.size() > size_t(kGgufMaxDims))
        return makeError(ErrorCode::InvalidArgument, "a tensor has 1..4 dimensions", name);
    uint64_t rows = 1;
    for (size_t d = 0; d < ne.size(); ++d) {
        if (ne[d] < 0) return makeError(ErrorCode::InvalidArgument, "negative dimension", name);
        if (d == 0) continue;
        const auto r = checkedMul(rows, static_cast<uint64_t>(ne[d]));
        if (!r) return makeError(ErrorCode::Overflow, "tensor shape overflows", name);
        rows = *r;
    }
    if (ne[0] % traits->blockSize != 0)
        return makeError(ErrorCode::InvalidArgument,
                         "ne[0] is not a multiple of the block size " + std::to_string(traits->blockSize), name);
    const auto row = rowBytes(traits->type, static_cast<uint64_t>(ne[0]));
    const auto bytes = row ? checkedMul(*row, rows) : std::nullopt;
    const auto elements = checkedMul(rows, static_cast<uint64_t>(ne[0]));
    if (!bytes || !elements || *elements > uint64_t(std::numeric_limits<int64_t>::max()))
        return makeError(ErrorCode::Overflow, "tensor size overflows", name);
    Tensor t;
    t.name = std::move(name);
    t.type = type;
    t.ne = std::move(ne);
    t.bytes = *bytes;
    return t;
}

Status GgufWriter::addTensor(std::string name, TensorType type, std::vector<int64_t> ne,
                             std::span<const uint8_t> data) {
    GB_ASSIGN_OR_RETURN(Tensor t, makeTensor(std::move(name), type, std::move(ne)));
    if (data.size() != t.bytes)
        return invalid("data has " + std::to_string(data.size()) + " bytes, the shape needs " +
                           std::to_string(t.bytes),
                       t.name);
    t.borrowed = data;
    m_tensors.push_back(std::move(t));
    return {};
}

Status GgufWriter::addTensorOwned(std::string name, TensorType type, std::vector<int64_t> ne,
                                  std::vector<uint8_t> data) {
    GB_ASSIGN_OR_RETURN(Tensor t, makeTensor(std::move(name), type, std::move(ne)));
    if (data.size() != t.bytes)
        return invalid("data has " + std::to_string(data.size()) + " bytes, the shape needs " +
                           std::to_string(t.bytes),
                       t.name);
    t.owned = std::move(data);
    m_tensors.push_back(std::move(t));
    return {};
}

Status GgufWriter::addTensorLazy(std::string name, TensorType type, std::vector<int64_t> ne, GgufTensorFill fill) {
    if (!fill) return invalid("no fill function", name);
    GB_ASSIGN_OR_RETURN(Tensor t, makeTensor(std::move(name), type, std::move(ne)));
    t.fill = std::move(fill);
    m_tensors.push_back(std::move(t));
    return {};
}

Result<std::vector<uint8_t>> GgufWriter::encodeHeader(uint32_t alignment) const {
    std::vector<uint8_t> out;
    put<uint32_t>(out, kGgufMagic);
    put<uint32_t>(out, 3);
    put<uint64_t>(out, m_tensors.size());
    put<uint64_t>(out, m_metadata.size());
    for (const auto& [key, encoded] : m_metadata) {
        putString(out, key);
        putBytes(out, encoded.data(), encoded.size());
    }
    uint64_t offset = 0;
    for (const Tensor& t : m_tensors) {
        putString(out, t.name);
        put<uint32_t>(out, static_cast<uint32_t>(t.ne.size()));
        for (int64_t n : t.ne) put<int64_t>(out, n);
        put<uint32_t>(out, static_cast<uint32_t>(t.type));
        put<uint64_t>(out, offset);
        const auto end = checkedAdd(offset, t.bytes);
        const auto aligned = end ? alignUp(*end, alignment) : std::nullopt;
        if (!aligned) return makeError(ErrorCode::Overflow, "tensor data size overflows", t.name);
        offset = *aligned;
    }
    out.resize(*alignUp(out.size(), alignment), 0);
    return out;
}

Result<uint64_t> GgufWriter::dataOffset() const {
    GB_ASSIGN_OR_RETURN(uint32_t alignment, checkedAlignment());
    GB_ASSIGN_OR_RETURN(auto header, encodeHeader(alignment));
    return uint64_t(header.size());
}

Result<uint64_t> GgufWriter::fileSize() const {
    GB_ASSIGN_OR_RETURN(uint32_t alignment, checkedAlignment());
    GB_ASSIGN_OR_RETURN(auto header, encodeHeader(alignment));
    uint64_t size = header.size();
    for (const Tensor& t : m_tensors) {
        const auto padded = alignUp(t.bytes, alignment);
        const auto next = padded ? checkedAdd(size, *padded) : std::nullopt;
        if (!next) return makeError(ErrorCode::Overflow, "file size overflows", t.name);
        size = *next;
    }
    return size;
}

Status GgufWriter::writeTo(detail::GgufSink& sink) const {
    GB_ASSIGN_OR_RETURN(uint32_t alignment, checkedAlignment());
    GB_ASSIGN_OR_RETURN(auto header, encodeHeader(alignment));
    GB_TRY(sink.write(header));
    for (const Tensor& t : m_tensors) {
        if (t.fill) {
            GB_ASSIGN_OR_RETURN(auto dst, sink.acquire(t.bytes));
            GB_TRY(t.fill(dst));
            GB_TRY(sink.commit(dst));
        } else {
            GB_TRY(sink.write(t.owned.empty() ? t.borrowed : std::span<const uint8_t>(t.owned)));
        }
        GB_TRY(sink.writeZeros(*alignUp(t.bytes, alignment) - t.bytes));
    }
    return {};
}

Result<std::vector<uint8_t>> GgufWriter::writeToBuffer() const {
    GB_ASSIGN_OR_RETURN(uint64_t size, fileSize());
    std::vector<uint8_t> out;
    try {
        if (size > out.max_size()) throw std::bad_alloc();
        out.resize(static_cast<size_t>(size));
    } catch (const std::bad_alloc&) {
        return makeError(ErrorCode::OutOfMemory, "no memory for a file of " + std::to_string(size) + " bytes");
    }
    BufferSink sink(out);
    GB_TRY(writeTo(sink));
    return out;
}

Status GgufWriter::writeFile(const std::string& path) const {
    const std::string partial = path + ".partial";
    std::FILE* file = std::fopen(partial.c_str(), "wb");
    if (!file) return makeError(ErrorCode::Io, std::string("cannot create: ") + std::strerror(errno), partial);
    FileSink sink(file, partial);
    Status written = writeTo(sink);
    const bool closed = std::fclose(file) == 0;
    if (written.ok() && !closed)
        written = makeError(ErrorCode::Io, std::string("close failed: ") + std::strerror(errno), partial);
    if (written.ok() && std::rename(partial.c_str(), path.c_str()) != 0)
        written = makeError(ErrorCode::Io, std::string("cannot rename into place: ") + std::strerror(errno), path);
    if (!written.ok()) std::remove(partial.c_str());
    return written;
}

}  // namespace glassbox::engine
