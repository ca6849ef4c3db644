// Writes GGUF v3 files: metadata (any GgufValue, including values copied
// from a parsed file) and tensors, laid out at the chosen alignment. Tensor
// bytes are never gathered in memory: each tensor is written straight from a
// caller's span, an owned buffer, or a fill callback invoked when its turn
// comes (for tensors produced on the fly, such as re-quantized weights).
#pragma once

#include <cstdint>
#include <functional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/gguf_file.h"
#include "engine/result.h"
#include "engine/tensor_types.h"

namespace glassbox::engine {

namespace detail {
class GgufSink;  // where an encoded file goes (buffer or file)
}

// Fills exactly out.size() bytes of one tensor's data.
using GgufTensorFill = std::function<Status(std::span<uint8_t> out)>;

class GgufWriter {
public:
    // Metadata, written in insertion order. Setting an existing key replaces
    // its value in place.
    void set(std::string key, const GgufValue& value);
    template <GgufScalar T>
    void set(std::string key, T value) { set(std::move(key), GgufValue::of(value)); }
    void set(std::string key, std::string_view value) { set(std::move(key), GgufValue::ofString(std::string(value))); }
    void set(std::string key, const char* value) { set(std::move(key), std::string_view(value)); }
    // Arrays of scalars or strings from any contiguous range (vector, array, span).
    template <std::ranges::contiguous_range R>
    void setArray(std::string key, const R& items);
    bool remove(std::string_view key);
    bool has(std::string_view key) const;
    size_t metadataCount() const { return m_metadata.size(); }

    // Tensor data alignment, stored as the uint32 key general.alignment.
    // Errors: InvalidArgument unless a power of two <= kGgufMaxAlignment.
    Status setAlignment(uint32_t alignment);
    uint32_t alignment() const;

    // Tensors, written in the order added. ne has 1..4 dimensions (ne[0]
    // innermost); names must be unique and shorter than 64 bytes.
    // Errors: InvalidArgument for a bad name, shape, or a data size that does
    // not match the type and shape; Overflow when the size overflows.
    // `data` is borrowed: it must stay valid until the last write call.
    Status addTensor(std::string name, TensorType type, std::vector<int64_t> ne, std::span<const uint8_t> data);
    Status addTensorOwned(std::string name, TensorType type, std::vector<int64_t> ne, std::vector<uint8_t> data);
    // `fill` is called once per write, with a buffer of the tensor's size.
    Status addTensorLazy(std::string name, TensorType type, std::vector<int64_t> ne, GgufTensorFill fill);
    size_t tensorCount() const { return m_tensors.size(); }

    // Where the data section starts and the total file size, for the
    // current contents. Errors: InvalidArgument for a bad general.alignment.
    Result<uint64_t> dataOffset() const;
    Result<uint64_t> fileSize() const;

    // Errors: InvalidArgument (bad general.alignment), OutOfMemory, and any
    // error returned by a fill callback.
    Result<std::vector<uint8_t>> writeToBuffer() const;
    // Writes to `path` through a temporary file in the same folder, renamed
    // into place once complete. Errors: Io, plus those of writeToBuffer.
    Status writeFile(const std::string& path) const;

private:
    struct Tensor {
        std::string name;
        TensorType type = TensorType::F32;
        std::vector<int64_t> ne;
        uint64_t bytes = 0;
        std::span<const uint8_t> borrowed;
        std::vector<uint8_t> owned;
        GgufTensorFill fill;
    };
    Result<Tensor> makeTensor(std::string name, TensorType type, std::vector<int64_t> ne) const;
    Result<std::vector<uint8_t>> encodeHeader(uint32_t alignment) const;
    Result<uint32_t> checkedAlignment() const;
    Status writeTo(detail::GgufSink& sink) const;

    std::vector<std::pair<std::string, std::vector<uint8_t>>> m_metadata;  // key, encoded type + value
    std::vector<Tensor> m_tensors;
};

template <std::ranges::contiguous_range R>
void GgufWriter::setArray(std::string key, const R& items) {
    using T = std::remove_cv_t<std::ranges::range_value_t<R>>;
    const std::span<const T> span(std::ranges::data(items), std::ranges::size(items));
    if constexpr (std::is_same_v<T, std::string>) set(std::move(key), GgufValue::ofStrings(span));
    else set(std::move(key), GgufValue::ofArray<T>(span));
}

}  // namespace glassbox::engine
