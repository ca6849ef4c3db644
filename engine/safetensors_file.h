// safetensors checkpoints: a bounded parser over the bytes of a whole file,
// and the index of sharded checkpoints (model.safetensors.index.json).
//
// Layout: u64 little-endian header length N, N bytes of JSON header, then the
// data buffer. The header maps tensor names to {dtype, shape, data_offsets}
// (offsets relative to the data buffer) plus an optional "__metadata__"
// string map. As in the reference implementation, the tensors must tile the
// data buffer exactly: sorted by offset they start at 0, follow each other
// without gap or overlap, and the last one ends at the end of the file.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/result.h"
#include "engine/tensor_types.h"

namespace glassbox::engine {

// Every dtype of the safetensors format. Only F32, F16 and BF16 can be used
// for compute; the others are parsed, validated and listed.
enum class SafetensorsDtype : uint8_t {
    Bool, U8, I8, F8_E5M2, F8_E4M3, F8_E8M0, I16, U16, F16, BF16, I32, U32, F32, F64, I64,
    U64, C64, F4, F6_E2M3, F6_E3M2,
};

// "F32", "BF16", ... as written in headers.
const char* safetensorsDtypeName(SafetensorsDtype dtype);
std::optional<SafetensorsDtype> safetensorsDtypeFromName(std::string_view name);
// Bits per element (4 and 6 for the packed sub-byte float types).
uint32_t safetensorsDtypeBits(SafetensorsDtype dtype);
// The engine tensor type for F32 / F16 / BF16; nullopt for the others.
std::optional<TensorType> safetensorsComputeType(SafetensorsDtype dtype);
// The safetensors dtype of an engine type, when there is one (F32, F16, BF16).
std::optional<SafetensorsDtype> safetensorsDtypeOf(TensorType type);
// Bytes of `elements` elements, or nullopt on overflow or when a sub-byte
// type does not fill whole bytes.
std::optional<uint64_t> safetensorsDataBytes(SafetensorsDtype dtype, uint64_t elements);

inline constexpr uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;  // as the reference
inline constexpr size_t kSafetensorsMaxDims = 8;

struct SafetensorsTensor {
    std::string name;
    SafetensorsDtype dtype = SafetensorsDtype::F32;
    std::vector<uint64_t> shape;  // row-major: shape.back() is contiguous
    uint64_t elements = 0;
    uint64_t begin = 0;  // data_offsets, relative to the data buffer
    uint64_t end = 0;
    std::span<const uint8_t> data;  // the tensor's bytes inside the file
};

class SafetensorsFile {
public:
    // Parse and validate the header of a safetensors file held in `bytes`
    // (which must outlive the SafetensorsFile). Errors, each naming the field
    // (JSON path such as '$["a.weight"].shape') and the file byte offset:
    //   Truncated   file shorter than 8 bytes, header longer than the file,
    //               truncated header JSON, data_offsets past the end of file
    //   Overflow    header length over kSafetensorsMaxHeaderBytes, shape
    //               product or byte size overflowing, header nested too deep
    //   Malformed   header not JSON / not an object, bad or missing fields,
    //               too many dims, negative dims, end < begin, size mismatch,
    //               gaps, overlaps, bytes not covered by any tensor,
    //               duplicate tensor names, non-string metadata values
    //   Unsupported a dtype name the format does not define
    //   OutOfMemory the header's values could not be allocated
    static Result<SafetensorsFile> parse(std::span<const uint8_t> bytes);

    uint64_t headerSize() const { return m_headerSize; }
    // File offset of the data buffer (8 + headerSize()).
    uint64_t dataOffset() const { return 8 + m_headerSize; }

    // "__metadata__" entries, in header order.
    const std::vector<std::pair<std::string, std::string>>& metadata() const { return m_metadata; }
    std::optional<std::string_view> metadataValue(std::string_view key) const;

    // Tensors in header order.
    const std::vector<SafetensorsTensor>& tensors() const { return m_tensors; }
    const SafetensorsTensor* findTensor(std::string_view name) const;

    // A TensorView (ne[] reversed from the shape, so ne[0] is the innermost
    // dimension). Errors: Unsupported for a dtype other than F32/F16/BF16 or
    // more than 4 dimensions (leading dimensions of 1 are dropped first).
    static Result<TensorView> view(const SafetensorsTensor& tensor);

private:
    static Result<SafetensorsFile> parseUnchecked(std::span<const uint8_t> bytes);

    uint64_t m_headerSize = 0;
    std::vector<std::pair<std::string, std::string>> m_metadata;
    std::vector<SafetensorsTensor> m_tensors;
    std::map<std::string, size_t, std::less<>> m_tensorIndex;
};

// A sharded checkpoint's index: which shard file holds each tensor.
struct SafetensorsIndex {
    std::vector<std::string> shards;  // distinct shard file names, first-seen order
    std::vector<std::pair<std::string, std::string>> weightMap;  // tensor -> shard
    std::optional<uint64_t> totalSize;  // metadata.total_size, when present
};

// True for a shard file name that stays inside the checkpoint folder: not
// empty, not "." or "..", no '/', '\\', ':' or control characters.
bool isSafeShardName(std::string_view name);

// Parse model.safetensors.index.json. Errors: those of parseJson; Malformed
// when weight_map is missing or not an object of strings, or a shard name
// fails isSafeShardName() (path traversal); field names the JSON path.
Result<SafetensorsIndex> parseSafetensorsIndex(std::string_view json);
// Read and parse an index file. Errors: Io when it cannot be read, Overflow
// when it is larger than 64 MiB, and those of parseSafetensorsIndex.
Result<SafetensorsIndex> readSafetensorsIndexFile(const std::string& path);

}  // namespace glassbox::engine
