// Tensor element types (ids match the GGUF / ggml type ids) and their
// block layouts. Quantized types store blocks of `blockSize` elements in
// `typeSize` bytes; the block structs below are bit-compatible with ggml.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace glassbox::engine {

enum class TensorType : uint32_t {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    BF16 = 30,
};

struct TensorTypeTraits {
    TensorType type;
    const char* name;
    uint32_t blockSize;  // elements per block (1 for plain floats)
    uint32_t typeSize;   // bytes per block
    bool quantized;
};

// Traits for a raw type id from a file, or nullopt for ids we do not know.
std::optional<TensorTypeTraits> tensorTypeTraits(uint32_t rawId);
const TensorTypeTraits& traitsOf(TensorType type);
std::string_view tensorTypeName(TensorType type);
// Parse "Q4_1", "f16", ... (case-insensitive).
std::optional<TensorType> tensorTypeFromName(std::string_view name);

// Bytes needed for one row of n elements, or nullopt when n is not a
// multiple of the block size or the size overflows.
std::optional<uint64_t> rowBytes(TensorType type, uint64_t n);

inline constexpr int kQK4_0 = 32;
inline constexpr int kQK4_1 = 32;
inline constexpr int kQK5_0 = 32;
inline constexpr int kQK5_1 = 32;
inline constexpr int kQK8_0 = 32;
inline constexpr int kQK8_1 = 32;
inline constexpr int kQK_K = 256;
inline constexpr int kKScaleSize = 12;

using fp16_t = uint16_t;

struct BlockQ4_0 { fp16_t d; uint8_t qs[kQK4_0 / 2]; };
struct BlockQ4_1 { fp16_t d; fp16_t m; uint8_t qs[kQK4_1 / 2]; };
struct BlockQ5_0 { fp16_t d; uint8_t qh[4]; uint8_t qs[kQK5_0 / 2]; };
struct BlockQ5_1 { fp16_t d; fp16_t m; uint8_t qh[4]; uint8_t qs[kQK5_1 / 2]; };
struct BlockQ8_0 { fp16_t d; int8_t qs[kQK8_0]; };
struct BlockQ8_1 { fp16_t d; fp16_t s; int8_t qs[kQK8_1]; };  // s = d * sum(qs)
struct BlockQ4_K { fp16_t d; fp16_t dmin; uint8_t scales[kKScaleSize]; uint8_t qs[kQK_K / 2]; };
struct BlockQ5_K { fp16_t d; fp16_t dmin; uint8_t scales[kKScaleSize]; uint8_t qh[kQK_K / 8]; uint8_t qs[kQK_K / 2]; };
struct BlockQ6_K { uint8_t ql[kQK_K / 2]; uint8_t qh[kQK_K / 4]; int8_t scales[kQK_K / 16]; fp16_t d; };
struct BlockQ8_K { float d; int8_t qs[kQK_K]; int16_t bsums[kQK_K / 16]; };

static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);

// IEEE half <-> float, exact (round-to-nearest-even for the narrowing).
float fp16ToFloat(fp16_t h);
fp16_t floatToFp16(float f);
// bfloat16 <-> float (narrowing rounds to nearest even, NaN kept quiet).
float bf16ToFloat(uint16_t h);
uint16_t floatToBf16(float f);

// A view of one tensor's bytes inside a mapped file or a buffer. ne[0] is
// the innermost (contiguous) dimension, as in ggml.
struct TensorView {
    std::string name;
    TensorType type = TensorType::F32;
    int nDims = 0;
    std::array<int64_t, 4> ne{1, 1, 1, 1};
    const uint8_t* data = nullptr;
    uint64_t bytes = 0;

    int64_t elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
    int64_t rows() const { return ne[1] * ne[2] * ne[3]; }
    uint64_t rowStride() const { return rows() > 0 ? bytes / uint64_t(rows()) : 0; }
};

}  // namespace glassbox::engine
